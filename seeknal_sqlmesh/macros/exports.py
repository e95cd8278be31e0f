"""`@seeknal_export('transform.daily_revenue', 'target/exports/revenue.csv', 'csv')`: Seeknal's file exposures.

Rendered in SQLMesh's `after_all`, so the file is rewritten after every plan/run from the environment that was
just updated. Exports of a non-prod environment get the environment name in the file name, so a dev plan never
overwrites the file prod consumers read; a dev environment only exports models it changed (the others have no
view of their own there, and their export is prod's).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlglot import exp
from sqlmesh import macro

logger = logging.getLogger("seeknal_sqlmesh")
FORMATS = {
    "csv": [("FORMAT", "CSV"), ("HEADER", None)],
    "parquet": [("FORMAT", "PARQUET")],
    "json": [("FORMAT", "JSON"), ("ARRAY", "TRUE")],
    "jsonl": [("FORMAT", "JSON")],
}


def export_path(relative: str, env: str) -> Path:
    from seeknal_sqlmesh.runtime.files import project_file

    path = project_file(relative)  # an absolute path stays as it is
    return path.with_name(f"{path.stem}__{env}{path.suffix}") if env != "prod" else path


def environment_view(model_name: str, env: str) -> exp.Table:
    schema, table = model_name.split(".", 1)
    return exp.table_(table, db=schema if env == "prod" else f"{schema}__{env}")


def _nothing() -> exp.Expr:
    """A harmless statement for `after_all` when there is nothing to export."""
    return exp.select(exp.Literal.number(1))


@macro()
def seeknal_export(evaluator, model_name: exp.Expr, path: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    if "this_env" not in evaluator.locals:
        return _nothing()  # rendered outside a plan/run: nothing to export
    if evaluator.dialect not in ("duckdb", None, ""):
        # the file is written by DuckDB's COPY; another engine (a StarRocks gateway) cannot write local files
        logger.warning(
            "seeknal: the export of %s to %s runs on the DuckDB gateway only (this plan runs on %s)",
            model_name.name,
            path.name,
            evaluator.dialect,
        )
        return _nothing()
    env = evaluator.this_env
    view = environment_view(model_name.name, env)
    adapter = getattr(evaluator, "engine_adapter", None)
    if env != "prod" and adapter is not None and not adapter.table_exists(view):
        return _nothing()  # unchanged in this environment: nothing new to export
    target = export_path(path.name, env)
    target.parent.mkdir(parents=True, exist_ok=True)
    params = [
        exp.CopyParameter(this=exp.var(key), expression=exp.var(value) if value else None)
        for key, value in FORMATS[fmt.name]
    ]
    query = exp.select("*").from_(view)
    return exp.Copy(this=exp.Subquery(this=query), kind=False, files=[exp.Literal.string(str(target))], params=params)
