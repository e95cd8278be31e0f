"""The contract between the translator and everything that reads its output: the layout of a translated project
and the typed, versioned `seeknal/manifest.json`.

The translator writes the manifest with `Manifest`; plugins and commands read it with `Manifest.load` (never as a
dict by string keys). A plugin keeps what it adds under `plugins.<name>` with a pydantic model of its own
(`Manifest.section`). When the shape changes, `MANIFEST_VERSION` goes up and older manifests are refused with a
message that says to translate again.

`Layout` is the one place that names the files of a translated project; `find_project` tells a Seeknal project from
its translated output, so every command's `-p/--project` accepts either.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from seeknal_sqlmesh.errors import SeeknalError

MANIFEST_VERSION = 2  # 1: the unversioned manifest of seeknal-sqlmesh 0.1 (plain dict, feature_store at the top)

SectionT = t.TypeVar("SectionT", bound=BaseModel)


class Layout:
    """Names inside a translated project (relative to its folder) and of the Seeknal project around it."""

    SETTINGS = "settings.yaml"
    CONFIG_PY = "config.py"
    MACROS_PY = "macros/seeknal.py"
    EXTERNAL_MODELS = "external_models.yaml"
    MANIFEST = "seeknal/manifest.json"
    SEMANTIC_DIR = "seeknal/semantic"
    # The data area: a folder beside the translated one (`<out>.data/`, see `data_dir`) that translation never
    # replaces. The generated settings point SQLMesh at it with paths relative to the translated folder.
    DATA_SUFFIX = ".data"
    DATA_DIR_KEY = "seeknal_data_dir"  # in settings.yaml: the data area, relative to the translated folder
    WAREHOUSE = "warehouse.duckdb"  # the default DuckDB gateway's database (in the data area); created by SQLMesh
    STATE = "state.duckdb"  # SQLMesh state of every gateway (StarRocks cannot hold it), in the data area
    CACHE_DIR = "cache"  # SQLMesh's cache (`cache_dir`), in the data area
    # seeknal translate's own cache, in the data area: rendered models by content hash, the inputs last translated
    TRANSLATION_CACHE = "translation"
    EXPORTS_DIR = "exports"  # file exports of non-prod environments: `exports/<env>/<file name>` in the data area
    LOCK = "seeknal.lock"  # in the data area: held by every translate (one at a time per project)
    # What SQLMesh created inside the translated folder before the data area existed: moved there once.
    LEGACY_DATA = ("warehouse.duckdb", "warehouse.duckdb.wal", "state.duckdb", "state.duckdb.wal")
    # What `seeknal run` last processed of each file source, per environment (size, mtime, hash): kept by translate
    SOURCE_FILES = "source_files.json"
    # Entries translation owns and replaces; everything else in the folder (the unit tests `seeknal create-test`
    # writes in tests/, files of your own) is carried over, as hard links, on re-translation.
    OWNED = ("config.py", "settings.yaml", "external_models.yaml", "models", "audits", "macros", "seeknal")
    TESTS_DIR = "tests"  # SQLMesh unit tests: the user's, never touched by translation

    SEEKNAL_PROJECT_FILE = "seeknal_project.yml"  # marks a Seeknal project
    DEFAULT_OUTPUT = "target/sqlmesh"  # where `seeknal translate` writes when -o is not given (inside the project)

    @staticmethod
    def data_dir(translated: Path) -> Path:
        """The data area of a translated folder: `build/sample` -> `build/sample.data` (a sibling, never swapped)."""
        translated = Path(translated)
        return translated.parent / f"{translated.name}{Layout.DATA_SUFFIX}"


class ContractError(SeeknalError):
    """The translated project is missing, unreadable or from another version of seeknal-sqlmesh."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityEntry(_Model):
    name: str
    join_keys: t.List[str]
    description: str = ""


class FeatureEntry(_Model):
    description: str = ""
    dtype: t.Optional[str] = None


class NodeEntry(_Model):
    """One Seeknal node: what every node has, then what its kind adds (None where it does not apply)."""

    kind: str
    file: str
    models: t.List[str]  # SQLMesh models built for it, first the node's own
    upstream: t.List[str]
    external_table: t.Optional[str] = None  # sources read from another engine
    data_files: t.Optional[t.List[str]] = None  # file sources: data paths (globs allowed), relative to the output
    # feature_group
    entity: t.Optional[EntityEntry] = None
    event_time_col: t.Optional[str] = None
    features: t.Optional[t.Dict[str, FeatureEntry]] = None
    offline: t.Optional[t.Union[bool, t.Dict[str, t.Any]]] = None
    online_ttl: t.Optional[str] = None
    # aggregation, second_order_aggregation
    data_source: t.Optional[str] = None
    # profile
    profiled: t.Optional[str] = None
    columns: t.Optional[t.List[str]] = None
    max_top_values: t.Optional[int] = None
    # rule
    checks: t.Optional[str] = None
    severity: t.Optional[str] = None
    # exposure
    type: t.Optional[str] = None
    params: t.Optional[t.Dict[str, t.Any]] = None
    upstream_model: t.Optional[str] = None
    # semantic_model, metric
    semantic_file: t.Optional[str] = None
    # model (ML)
    training: t.Optional[t.Dict[str, t.Any]] = None
    translated: t.Optional[bool] = None


class Manifest(_Model):
    version: int = MANIFEST_VERSION
    project: str
    seeknal_project: str  # the Seeknal project, relative to the translated folder
    nodes: t.Dict[str, NodeEntry]
    plugins: t.Dict[str, t.Dict[str, t.Any]] = {}  # plugin name -> its section (read with `section`)
    warnings: t.List[str] = []

    def section(self, plugin: str, model: t.Type[SectionT]) -> SectionT:
        """A plugin's section read with the plugin's own model (empty when the plugin added nothing)."""
        try:
            return model.model_validate(self.plugins.get(plugin, {}))
        except ValidationError as e:
            raise ContractError(
                f"{Layout.MANIFEST}: the '{plugin}' section does not match this version of seeknal-sqlmesh ({e.error_count()} problems)",
                "translate the project again",
            ) from None

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        data["nodes"] = {k: v.model_dump(mode="json", exclude_none=True) for k, v in self.nodes.items()}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, translated: t.Union[str, Path]) -> Manifest:
        root = Path(translated)
        path = root / Layout.MANIFEST
        if not path.is_file():
            raise ContractError(
                f"{root}: not a translated project (no {Layout.MANIFEST})",
                f"run `seeknal translate <seeknal project> -o {root}`, or pass the Seeknal project with -p",
            )
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ContractError(f"{path}: not valid JSON ({e})", "translate the project again") from None
        version = data.get("version", 1) if isinstance(data, dict) else None
        if version != MANIFEST_VERSION:
            raise ContractError(
                f"{path}: manifest version {version} was written by another version of seeknal-sqlmesh "
                f"(this one reads version {MANIFEST_VERSION})",
                "translate the project again: seeknal translate <seeknal project> -o " + str(root),
            )
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ContractError(f"{path}: {where}: {first['msg']}", "translate the project again") from None


@dataclass(frozen=True)
class ProjectPaths:
    """What `-p/--project` pointed at: the translated SQLMesh project, and the Seeknal project when known."""

    translated: Path
    seeknal: t.Optional[Path] = None

    @property
    def manifest(self) -> Manifest:
        return Manifest.load(self.translated)


def is_seeknal_project(path: Path) -> bool:
    return (path / Layout.SEEKNAL_PROJECT_FILE).is_file()


def is_translated_project(path: Path) -> bool:
    return (path / Layout.SETTINGS).is_file() and (path / Layout.MANIFEST).is_file()


def data_area(translated: Path) -> Path:
    """The data area a translated project's settings name (`seeknal_data_dir`); the translated folder itself for
    projects translated before the data area existed."""
    import yaml

    try:
        settings = yaml.safe_load((Path(translated) / Layout.SETTINGS).read_text())
    except (OSError, yaml.YAMLError):
        settings = None
    value = settings.get(Layout.DATA_DIR_KEY) if isinstance(settings, dict) else None
    return (Path(translated) / value).resolve() if isinstance(value, str) and value else Path(translated)


def default_output(seeknal_project: Path) -> Path:
    return seeknal_project / Layout.DEFAULT_OUTPUT


def find_project(path: t.Union[str, Path, None] = None, *, must_exist: bool = True) -> ProjectPaths:
    """Accept a Seeknal project or its translated output (the current folder by default).

    A Seeknal project stands for its translation in `Layout.DEFAULT_OUTPUT`. With `must_exist`, a Seeknal project
    that was never translated is an error that says how to translate it.
    """
    root = Path(path or ".").resolve()
    if is_translated_project(root):
        source = (root / Manifest.load(root).seeknal_project).resolve()
        return ProjectPaths(translated=root, seeknal=source if is_seeknal_project(source) else None)
    if is_seeknal_project(root):
        out = default_output(root)
        if must_exist and not is_translated_project(out):
            raise ContractError(
                f"{root} is a Seeknal project that has not been translated yet (nothing in {out})",
                f"run `seeknal translate {path or '.'}` first",
            )
        return ProjectPaths(translated=out, seeknal=root)
    if not root.exists():
        raise ContractError(f"{root}: no such folder", "pass a Seeknal project or its translated output with -p")
    raise ContractError(
        f"{root} is neither a Seeknal project (no {Layout.SEEKNAL_PROJECT_FILE}) nor a translated one (no {Layout.MANIFEST})",
        "pass a Seeknal project or its translated output with -p",
    )
