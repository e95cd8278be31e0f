"""`@seeknal_export('transform.daily_revenue', 'target/exports/revenue.csv', 'csv')`: Seeknal's file exposures.

Rendered in SQLMesh's `after_all`, so the file is rewritten after every plan/run from the environment that was
just updated. The table read is the model's view in that environment, named by SQLMesh's own rules
(`runtime/environments.environment_view`). Exports of a non-prod environment go to `exports/<env>/` in the data
area (`build/sample.data/exports/dev/revenue.csv`), so a dev plan never overwrites the file prod consumers read nor
writes into the Seeknal project, and `seeknal janitor` removes them with the environment; a dev environment only
exports models it changed (the others have no view of their own there, and their export is prod's).
"""

from __future__ import annotations

import logging
import typing as t
from pathlib import Path

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

from seeknal_sqlmesh.runtime.environments import environment_view

if t.TYPE_CHECKING:
    from sqlmesh.core.environment import EnvironmentNamingInfo

logger = logging.getLogger("seeknal_sqlmesh")
# format -> COPY options (name, value or None for a bare flag)
FORMATS: t.Dict[str, t.List[t.Tuple[str, t.Optional[str]]]] = {
    "csv": [("FORMAT", "CSV"), ("HEADER", None)],
    "parquet": [("FORMAT", "PARQUET")],
    "json": [("FORMAT", "JSON"), ("ARRAY", "TRUE")],
    "jsonl": [("FORMAT", "JSON")],
}


def export_path(relative: str, env: str) -> Path:
    """The exported file: prod's is the exposure's path (`relative` to the translated project); another
    environment's is `exports/<env>/<file name>` in the data area, never in the Seeknal project (our own naming)."""
    # imported in the function: SQLMesh stores a macro with the globals it uses, and the project folder must be
    # looked up when the export runs, not frozen into the stored macro
    from seeknal_sqlmesh.contract import Layout
    from seeknal_sqlmesh.runtime.config import data_dir
    from seeknal_sqlmesh.runtime.files import project_file

    path = project_file(relative)  # an absolute path stays as it is
    return data_dir() / Layout.EXPORTS_DIR / env / path.name if env != "prod" else path


def naming_info(evaluator: MacroEvaluator) -> t.Optional[EnvironmentNamingInfo]:
    """How the environment being updated names its views (suffix target, catalog, normalization).

    SQLMesh 0.236 gives `after_all` macros only the environment's name in public (`this_env`); the naming info it
    renders them with is kept in this private attribute. Read in this one place, so an upgrade changes one line.
    """
    return getattr(evaluator, "_environment_naming_info", None)


def _nothing() -> exp.Expr:
    """A harmless statement for `after_all` when there is nothing to export."""
    return exp.select(exp.Literal.number(1))


@macro()
def seeknal_export(evaluator: MacroEvaluator, model_name: exp.Expr, path: exp.Expr, fmt: exp.Expr) -> exp.Expr:
    naming = naming_info(evaluator)
    if "this_env" not in evaluator.locals or naming is None:
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
    snapshot = evaluator.get_snapshot(model_name.name)
    if snapshot is None:
        logger.warning("seeknal: %s is not a model of this project: %s is not exported", model_name.name, path.name)
        return _nothing()
    env = evaluator.this_env
    view = environment_view(snapshot, naming, "duckdb")
    adapter = evaluator.locals.get("engine_adapter")
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
