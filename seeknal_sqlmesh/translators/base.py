"""What a translator produces, and the context it works in.

A translator is a function `translate(node, ctx) -> NodeTranslation`; one module per Seeknal kind.
The assembler (`translators/__init__.py`) collects the pieces and `output.py` renders them to files.
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from seeknal_sqlmesh.errors import Problems
from seeknal_sqlmesh.project.loader import template_context
from seeknal_sqlmesh.project.models import Node, Project
from seeknal_sqlmesh.project.templating import TemplateScope, flatten_common

if t.TYPE_CHECKING:
    import pandas as pd


@dataclass
class AuditSpec:
    """A custom SQL audit (returned rows = failures) attached to a model."""

    name: str
    query: exp.Query
    blocking: bool = True
    description: str = ""


@dataclass
class ModelSpec:
    """One SQLMesh model. Exactly one of `query` (SQL model) or `python_source` (Python model) is set."""

    name: str
    node: Node
    query: t.Optional[exp.Query] = None
    python_source: t.Optional[str] = None
    kind: t.Dict[str, t.Any] = field(default_factory=lambda: {"name": "FULL"})
    pre_statements: t.List[exp.Expr] = field(default_factory=list)
    post_statements: t.List[exp.Expr] = field(default_factory=list)
    columns: t.Dict[str, str] = field(default_factory=dict)  # declared types (Python models, external reads)
    column_descriptions: t.Dict[str, str] = field(default_factory=dict)
    grains: t.List[str] = field(default_factory=list)
    audits: t.List[t.Tuple[str, t.Dict[str, exp.Expr]]] = field(default_factory=list)  # built-in audits
    custom_audits: t.List[AuditSpec] = field(default_factory=list)
    tags: t.List[str] = field(default_factory=list)
    description: str = ""
    owner: t.Optional[str] = None
    cron: t.Optional[str] = None
    cron_tz: t.Optional[str] = None
    dialect: str = "duckdb"
    gateway: t.Optional[str] = None
    physical_properties: t.Dict[str, exp.Expr] = field(default_factory=dict)
    depends_on: t.List[str] = field(default_factory=list)  # model names (Python models must declare them)
    sample: t.Any = None  # Python models: a few output rows computed at translation time (types for downstream)

    @property
    def schema_name(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.name.split(".", 1)[1]


@dataclass
class ExternalSpec:
    """A table SQLMesh does not build (postgres/iceberg/starrocks source), declared in external_models.yaml."""

    name: str
    node: Node
    gateway: t.Optional[str]
    columns: t.Dict[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass
class NodeTranslation:
    models: t.List[ModelSpec] = field(default_factory=list)
    externals: t.List[ExternalSpec] = field(default_factory=list)
    audits_for: t.List[t.Tuple[str, t.Union[AuditSpec, t.Tuple[str, t.Dict[str, exp.Expr]]]]] = field(
        default_factory=list
    )
    files: t.Dict[str, str] = field(default_factory=dict)  # extra output files, path relative to the output root
    exports: t.List[t.Dict[str, t.Any]] = field(default_factory=list)  # file exposures run after plan/run
    metadata: t.Dict[str, t.Any] = field(default_factory=dict)  # goes to seeknal/manifest.json


class Sampler(t.Protocol):
    """Small samples of translated models, for translators that must learn output columns by running code.

    Made on first use by `translators.schema.oracle(ctx)` (it opens an in-memory DuckDB); this module only
    holds the slot, so it does not depend on the oracle.
    """

    def sample(self, node_id: str) -> pd.DataFrame: ...

    def columns_of_frame(self, frame: pd.DataFrame) -> t.Dict[str, str]: ...

    def describe(self, query: exp.Query) -> t.Dict[str, str]: ...


@dataclass
class TranslationContext:
    project: Project
    problems: Problems
    output_dir: Path
    params: t.Dict[str, t.Any] = field(default_factory=dict)
    default_dialect: str = "duckdb"
    # node id -> the table downstream SQL must read, when it is not the model `<kind>.<name>` (external sources)
    table_names: t.Dict[str, str] = field(default_factory=dict)
    # node id -> its main translated model, filled in topological order (upstreams are always there)
    specs: t.Dict[str, ModelSpec] = field(default_factory=dict)
    sampler: t.Optional[Sampler] = None  # see `Sampler`; use `translators.schema.oracle(ctx)`

    def __post_init__(self) -> None:
        self._common = flatten_common(self.project.common)

    def table_of(self, node_id: str) -> exp.Table:
        # imported here, not at the top: translators/sql.py imports SQLMesh (a second), and importing this module
        # (as `import seeknal_sqlmesh` does) should not cost that
        from seeknal_sqlmesh.translators.sql import model_table

        if node_id in self.table_names:
            return exp.to_table(self.table_names[node_id])
        return model_table(node_id)

    def scope(self, node: Node) -> TemplateScope:
        """A fresh `{{ }}` scope for one node: CLI params, then the node's params, then context and common config."""
        return TemplateScope(
            params={**node.params, **self.params},
            context=template_context(self.project),
            common=self._common,
        )

    def error(self, node: Node, field_name: str, message: str, hint: str = "") -> None:
        self.problems.error(node.path, node.id, field_name, message, hint)

    def warn(self, node: Node, field_name: str, message: str, hint: str = "") -> None:
        self.problems.warn(node.path, node.id, field_name, message, hint)

    def project_path(self, relative: str) -> str:
        """A path in the Seeknal project, written relative to the output project (macros resolve it at run time)."""
        target = (self.project.root / relative).resolve()
        return _relpath(target, self.output_dir.resolve())

    def dialect_of(self, node: Node) -> str:
        return (node.dialect or self.default_dialect).lower()


def _relpath(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()
