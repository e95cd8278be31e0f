"""`@seeknal_file('../../sample_project/data/orders.csv')`: a path written relative to the SQLMesh project,
resolved to an absolute path when the model renders, so the project works from any working directory."""

from __future__ import annotations

from pathlib import Path

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

PROJECT_MARKERS = ("config.py", "config.yaml", "config.yml")


def project_root(model_path: object) -> Path:
    """The SQLMesh project folder: the nearest parent of the model file that holds a config file."""
    if not model_path:
        # imported in the function: SQLMesh stores a macro with the globals it uses (see macros/__init__.py)
        from seeknal_sqlmesh.runtime.config import project_dir

        return project_dir()
    start = Path(str(model_path)).resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).is_file() for marker in PROJECT_MARKERS):
            return folder
    return Path.cwd()


@macro()
def seeknal_file(evaluator: MacroEvaluator, relative_path: exp.Expr) -> exp.Literal:
    text = relative_path.name if isinstance(relative_path, exp.Literal) else str(relative_path)
    if Path(text).is_absolute():
        return exp.Literal.string(text)
    root = project_root(getattr(evaluator, "_path", None))
    return exp.Literal.string((root / text).resolve().as_posix())
