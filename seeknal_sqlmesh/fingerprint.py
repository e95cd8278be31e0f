"""What a translation read, recorded so that a no-op `seeknal translate --check` answers without translating.

After a translation (or a `--check` that found nothing stale) the data area keeps `translation/inputs.json`:

- a key of the options (params, settings, profile, profiles env, start, the output folder) and of the code that
  translates (the versions of seeknal-sqlmesh, SQLMesh and sqlglot, and size + mtime of every module of the package
  and of every plugin), so another version or option never reuses it;
- size + mtime of every file of the Seeknal project (version-control, virtualenv and tool caches in `SKIPPED_DIRS`
  and the output with its data area left out), taken *before* the translation read them: a file edited while it
  ran no longer matches;
- size + mtime of every file the translation owns in the output folder, and the files it listed.

`unchanged` answers True only when all of that is as recorded; anything else (a file added, removed, touched, an
option, another version) sends the caller to the full translation, which is always right. On file systems with
coarse timestamps, a file modified within `RACY_SECONDS` of the scan is never trusted (as git's "racy" files).
This module imports neither SQLMesh nor the translators: `seeknal translate --check` uses it before loading them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from seeknal_sqlmesh.contract import Layout

FORMAT = 1
INPUTS_FILE = "inputs.json"
RACY_SECONDS = 2.0  # timestamps of whole seconds (or coarser): a file this young at the scan is not trusted
# folders translation never reads (other hidden folders are scanned: the loader reads seeknal/**/*.yml, hidden or not)
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", ".venvs", "__pycache__", "node_modules"}
    | {".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints"}
)

Stats = t.Dict[str, t.List[int]]


@dataclass
class Recorded:
    """What the last translation recorded besides the stats: what `--check` prints when nothing changed."""

    files: int
    warnings: t.List[str]


def _stat(path: Path, now_ns: int) -> t.Optional[t.List[int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    coarse = st.st_mtime_ns % 1_000_000 == 0
    if coarse and now_ns - st.st_mtime_ns < RACY_SECONDS * 1e9:
        return [-1, -1]  # never equal to a later stat: the next check translates
    return [st.st_size, st.st_mtime_ns]


def _walk(root: Path, skip: t.Sequence[Path], now_ns: int) -> Stats:
    stats: Stats = {}
    skipped = {str(p) for p in skip}
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and os.path.join(folder, d) not in skipped)
        for name in names:
            path = Path(folder, name)
            stat = _stat(path, now_ns)
            if stat is not None:
                stats[path.relative_to(root).as_posix()] = stat
    return stats


def scan_inputs(project_dir: Path, output_dir: Path) -> Stats:
    """Size + mtime of every file of the Seeknal project (the output and its data area left out)."""
    project_dir, output_dir = Path(project_dir).resolve(), Path(output_dir).resolve()
    return _walk(project_dir, [output_dir, translation_cache(output_dir).parent], time.time_ns())


def scan_outputs(output_dir: Path) -> Stats:
    """Size + mtime of every file translation owns in the output folder."""
    output_dir = Path(output_dir).resolve()
    stats: Stats = {}
    for entry in Layout.OWNED:
        path = output_dir / entry
        if path.is_dir():
            for rel, stat in _walk(path, [], 0).items():
                stats[f"{entry}/{rel}"] = stat
        elif path.is_file():
            found = _stat(path, 0)
            if found is not None:
                stats[entry] = found
    return stats


def _code_stats() -> t.List[t.Any]:
    """The versions of what translates and size + mtime of its modules (a checkout being edited changes them)."""
    from seeknal_sqlmesh import plugins

    versions = []
    for dist in ("seeknal-sqlmesh", "sqlmesh", "sqlglot", "pydantic", "pyyaml"):
        try:
            versions.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist}=?")
    package = Path(__file__).resolve().parent
    code = {f"seeknal_sqlmesh/{rel}": s for rel, s in _walk(package, [], 0).items() if rel.endswith(".py")}
    for plugin in plugins.plugins():
        module = sys.modules.get(type(plugin).__module__)
        source = Path(getattr(module, "__file__", "") or "")
        if source.is_file() and package not in source.resolve().parents:
            code[str(source.resolve())] = _stat(source, 0) or []
    return [sys.version, versions, sorted(plugins_names(plugins.plugins())), sorted(code.items())]


def translate_options(
    params: t.Optional[t.Dict[str, t.Any]],
    settings_overrides: t.Optional[t.Dict[str, t.Any]],
    profile: t.Optional[Path],
    profiles_env: t.Optional[str],
    start: str,
) -> t.Dict[str, t.Any]:
    """`translate_project`'s options as the key records them (the CLI and the API must build them alike)."""
    return {
        "params": params or {},
        "settings_overrides": settings_overrides or {},
        "profile": str(Path(profile).resolve()) if profile else None,
        "profiles_env": profiles_env,
        "start": start,
    }


def write_json_atomically(path: Path, data: t.Any) -> None:
    """Write JSON to `path` through a temporary file and a rename: readers see the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # as any file the translation writes, not mkstemp's 0600
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plugins_names(found: t.Iterable[t.Any]) -> t.List[str]:
    return [f"{p.name}:{type(p).__module__}.{type(p).__qualname__}" for p in found]


def options_key(project_dir: Path, output_dir: Path, options: t.Dict[str, t.Any]) -> str:
    """A hash of the translation's options (files among them by size + mtime too) and of the code that translates."""
    data = {
        "format": FORMAT,
        "project": str(Path(project_dir).resolve()),
        "output": str(Path(output_dir).resolve()),
        "options": options,
        "code": _code_stats(),
    }
    profile = options.get("profile")
    if profile:
        data["profile_stat"] = _stat(Path(profile), time.time_ns())
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def translation_cache(output_dir: Path) -> Path:
    """Where translation keeps what it reuses: `<out>.data/translation/`, beside the translated folder (which
    translation swaps as a whole), in the data area that holds the warehouse and state."""
    return Layout.data_dir(Path(output_dir).resolve()) / Layout.TRANSLATION_CACHE


def inputs_path(output_dir: Path) -> Path:
    return translation_cache(output_dir) / INPUTS_FILE


def record(
    project_dir: Path,
    output_dir: Path,
    options: t.Dict[str, t.Any],
    inputs: Stats,
    files: t.Iterable[str],
    warnings: t.Sequence[str],
) -> None:
    """Remember what this translation read (`inputs`, scanned before reading) and wrote; see the module doc."""
    listed = sorted(files)
    outputs = scan_outputs(output_dir)
    if sorted(outputs) != listed:  # a file the translation did not write (or a missing one): never trust this record
        return
    data = {
        "format": FORMAT,
        "key": options_key(project_dir, output_dir, options),
        "inputs": inputs,
        "outputs": outputs,
        "warnings": list(warnings),
    }
    write_json_atomically(inputs_path(output_dir), data)


def unchanged(project_dir: Path, output_dir: Path, options: t.Dict[str, t.Any]) -> t.Optional[Recorded]:
    """What the last translation recorded, when nothing it read or wrote has changed since; else None."""
    try:
        data = json.loads(inputs_path(output_dir).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    if data.get("outputs") != scan_outputs(output_dir) or data.get("inputs") != scan_inputs(project_dir, output_dir):
        return None
    if data.get("key") != options_key(project_dir, output_dir, options):
        return None
    return Recorded(files=len(data["outputs"]), warnings=[str(w) for w in data.get("warnings", [])])
