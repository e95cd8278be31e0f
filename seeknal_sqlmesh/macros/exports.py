"""`@seeknal_export('transform.daily_revenue', 'target/exports/revenue.csv', 'csv')`: Seeknal's file exposures.

Rendered in SQLMesh's `after_all`, so the file is rewritten after every plan/run from the environment that was
just updated. Exports of a non-prod environment get the environment name in the file name, so a dev plan never
overwrites the file prod consumers read.
"""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp
from sqlmesh import macro

FORMATS = {
    "csv": [("FORMAT", "CSV"), ("HEADER", None)],
    "parquet": [("FORMAT", "PARQUET")],
    "json": [("FORMAT", "JSON"), ("ARRAY", "TRUE")],
    "jsonl": [("FORMAT", "JSON")],
}


def export_path(relative: str, env: str) -> Path:
    from seeknal_sqlmesh.runtime.config import project_dir

    path = Path(relative)
    if not path.is_absolute():
        path = project_dir() / path
    if env != "prod":
        path = path.with_name(f"{path.stem}__{env}{path.suffix}")
    return path.resolve()


def environment_view(model_name: str, env: str) -> exp.Table:
    schema, table = model_name.split(".", 1)
    return exp.table_(table, db=schema if env == "prod" else f"{schema}__{env}")


@macro()
def seeknal_export(evaluator, model_name: exp.Expr, path: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    if evaluator.runtime_stage != "before_all" and "this_env" not in evaluator.locals:
        return exp.Select(expressions=[exp.Literal.number(1)])  # rendered outside a plan/run: nothing to export
    env = evaluator.this_env
    target = export_path(path.name, env)
    target.parent.mkdir(parents=True, exist_ok=True)
    params = [
        exp.CopyParameter(this=exp.var(key), expression=exp.var(value) if value else None)
        for key, value in FORMATS[fmt.name]
    ]
    query = exp.select("*").from_(environment_view(model_name.name, env))
    return exp.Copy(this=exp.Subquery(this=query), kind=False, files=[exp.Literal.string(str(target))], params=params)
