"""Node-level settings every translator shares: model kind, schedule, dialect and descriptive metadata."""

from __future__ import annotations

import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import Node
from seeknal_sqlmesh.translators.audits import attach_inline_audits
from seeknal_sqlmesh.translators.base import ModelSpec, TranslationContext

INCREMENTAL_TIME_MODES = {"incremental_by_time", "incremental_by_time_range", "append_by_time"}
UPSERT_MODES = {"upsert_by_key", "upsert", "merge"}


def model_kind(node: Node, ctx: TranslationContext) -> t.Dict[str, t.Any]:
    """Seeknal materialization settings -> a SQLMesh model kind.

    - `incremental_by_time` (+ `time_column`, `lookback` in days) or a source's `freshness.time_column`
      -> INCREMENTAL_BY_TIME_RANGE: SQLMesh then computes only missing intervals;
    - `upsert_by_key`, Iceberg `upsert`, or any `unique_keys` -> INCREMENTAL_BY_UNIQUE_KEY;
    - everything else (full, overwrite, append, none) -> FULL, Seeknal's own behaviour on DuckDB.
    """
    for mat in node.active_materializations():
        mode = (mat.mode or "").lower()
        if mode in INCREMENTAL_TIME_MODES:
            if not mat.time_column:
                ctx.error(node, "materialization.time_column", f"mode '{mat.mode}' needs a time_column")
                continue
            kind: t.Dict[str, t.Any] = {"name": "INCREMENTAL_BY_TIME_RANGE", "time_column": mat.time_column}
            if mat.lookback:
                kind["lookback"] = int(mat.lookback)
            return kind
    for mat in node.active_materializations():
        mode = (mat.mode or "").lower()
        if mode in UPSERT_MODES or mat.unique_keys:
            if not mat.unique_keys:
                ctx.error(node, "materialization.unique_keys", f"mode '{mat.mode}' needs unique_keys")
                continue
            return {"name": "INCREMENTAL_BY_UNIQUE_KEY", "unique_key": list(mat.unique_keys)}
    if node.freshness and node.freshness.time_column:
        return {"name": "INCREMENTAL_BY_TIME_RANGE", "time_column": node.freshness.time_column}
    return {"name": "FULL"}


def apply_node_metadata(spec: ModelSpec, node: Node, ctx: TranslationContext) -> ModelSpec:
    """Description, owner, tags, column docs, schedule and dialect: the same for every kind."""
    spec.description = spec.description or (node.description or "").strip()
    spec.owner = spec.owner or node.owner
    spec.tags = sorted(set(spec.tags) | set(node.tags) | {f"seeknal:{node.kind}"})
    for column, col in node.columns.items():
        if col.description:
            spec.column_descriptions.setdefault(column, col.description)
    if node.schedule:
        spec.cron = node.schedule.cron
        spec.cron_tz = node.schedule.timezone
    spec.dialect = ctx.dialect_of(node)
    kind = spec.kind
    if kind.get("name") == "INCREMENTAL_BY_UNIQUE_KEY" and not spec.grains:
        spec.grains = list(kind["unique_key"])
    return spec


CASE_SENSITIVE_DUCKDB = "duckdb,normalization_strategy=case_sensitive"


def preserve_column_case(spec: ModelSpec) -> None:
    """Keep upper-case output names (SQLMesh would lowercase them in a plain `duckdb` model).

    Only output names keep their case: the model name and unquoted table names are lowercased here, as the plain
    `duckdb` dialect would do, so this model and the models it reads or that read it still find each other.
    """
    if spec.dialect != "duckdb" or spec.query is None or all(n == n.lower() for n in spec.query.named_selects):
        return
    spec.dialect = CASE_SENSITIVE_DUCKDB
    spec.name = spec.name.lower()
    for table in spec.query.find_all(exp.Table):
        for part in table.parts:
            if isinstance(part, exp.Identifier) and not part.quoted:
                part.set("this", part.this.lower())


def sql_model(
    node: Node,
    ctx: TranslationContext,
    query: exp.Query,
    *,
    grains: t.Sequence[str] = (),
    pre_statements: t.Sequence[exp.Expr] = (),
    tags: t.Sequence[str] = (),
) -> ModelSpec:
    """The SQL model of a node: kind, metadata, output-name case and inline audits, the same for every kind."""
    spec = ModelSpec(
        name=node.id, node=node, query=query, pre_statements=list(pre_statements), kind=model_kind(node, ctx)
    )
    spec.grains = list(grains)
    spec.tags = list(tags)
    apply_node_metadata(spec, node, ctx)
    preserve_column_case(spec)
    attach_inline_audits(spec, node, ctx)
    return spec
