"""Seeknal project -> SQLMesh project. One translator module per node kind; this module assembles them."""

from __future__ import annotations

import importlib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from seeknal_sqlmesh import fingerprint, plugins
from seeknal_sqlmesh.errors import Problem, Problems
from seeknal_sqlmesh.project.loader import load_project
from seeknal_sqlmesh.project.models import Node, Project
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext

# kind -> module under seeknal_sqlmesh.translators exposing `translate(node, ctx) -> NodeTranslation`
TRANSLATOR_MODULES = {
    "source": "source",
    "transform": "transform",
    "feature_group": "feature_group",
    "aggregation": "aggregation",
    "second_order_aggregation": "second_order_aggregation",
    "profile": "profile",
    "rule": "rule",
    "exposure": "exposure",
    "semantic_model": "semantic",
    "metric": "semantic",
    "model": "ml_model",
}


@dataclass
class TranslationResult:
    project: Project
    output_dir: Path
    files: t.Dict[str, str]
    warnings: t.List[Problem] = field(default_factory=list)
    stale: t.List[str] = field(default_factory=list)  # check / only_if_stale: files that differ(ed) from the output
    model_count: int = 0
    rendered: int = 0  # SQL models rendered through SQLMesh; the others came from the render cache
    reused: int = 0


def translate_node(node: Node, ctx: TranslationContext) -> NodeTranslation:
    """A plugin's translation when a plugin takes the node (an exposure or source type it serves), else the core's."""
    return plugins.translate_node(node, ctx) or translator_for(node)(node, ctx)


def translator_for(node: Node) -> t.Callable[[t.Any, TranslationContext], NodeTranslation]:
    if node.python:
        # imported on first use: Python nodes need DuckDB and pandas (a second to import), most projects have none
        from seeknal_sqlmesh.translators import python_node

        return python_node.translate
    module = importlib.import_module(f"seeknal_sqlmesh.translators.{TRANSLATOR_MODULES[node.kind]}")
    return module.translate


def translate_project(
    project_dir: t.Union[str, Path],
    output_dir: t.Union[str, Path],
    *,
    check: bool = False,
    only_if_stale: bool = False,
    params: t.Optional[t.Dict[str, t.Any]] = None,
    settings_overrides: t.Optional[t.Dict[str, t.Any]] = None,
    profile: t.Optional[Path] = None,
    profiles_env: t.Optional[str] = None,
    start: str = "2000-01-01",
    progress: t.Optional[t.Callable[[int, int, str], None]] = None,
    cache: bool = True,
) -> TranslationResult:
    """Translate `project_dir` into a SQLMesh project at `output_dir`.

    Raises `ProjectError` (exit code 2) listing every problem; nothing is written then. With `check=True`
    nothing is written either: the result's `stale` lists the files that a translation would change. With
    `only_if_stale=True` the output is written only when something changed, and `stale` lists what was rewritten.
    With `cache`, models rendered by an earlier translation into `output_dir` are reused (`translators/cache.py`);
    the output is the same without it. A translation, or a check that found nothing stale, records what it read and
    wrote in the data area (`fingerprint.py`), so the next no-op `seeknal translate --check` answers from that.
    """
    # imported here, not at the top: they load SQLMesh itself, which `import seeknal_sqlmesh` should not cost
    from seeknal_sqlmesh.translators.assemble import assemble
    from seeknal_sqlmesh.translators.cache import RENDER_FILE, RenderCache
    from seeknal_sqlmesh.translators.output import stale_files, write_atomically

    options = fingerprint.translate_options(params, settings_overrides, profile, profiles_env, start)
    # scanned before anything is read: a file edited while this runs no longer matches what is recorded
    inputs = fingerprint.scan_inputs(Path(project_dir), Path(output_dir)) if cache else None
    project, problems = load_project(project_dir, profile=profile, profiles_env=profiles_env, params=params)
    if not (Path(project_dir) / "seeknal_project.yml").is_file():
        problems.raise_if_any()
    # Loading problems are not raised yet: translating the nodes that did load finds the rest in the same run.
    output_dir = Path(output_dir).resolve()
    ctx = TranslationContext(project=project, problems=problems, output_dir=output_dir, params=dict(params or {}))
    pieces = {}
    total = len(project.order)
    for i, node_id in enumerate(project.order):
        node = project.nodes[node_id]
        pieces[node_id] = translate_node(node, ctx)
        if pieces[node_id].models:
            ctx.specs[node_id] = pieces[node_id].models[0]
        if progress:
            progress(i + 1, total, node_id)
    renders = RenderCache(fingerprint.translation_cache(output_dir) / RENDER_FILE if cache else None)
    files, model_count = assemble(project, ctx, pieces, settings_overrides or {}, start, renders)
    problems.raise_if_any()
    result = TranslationResult(project, output_dir, files, list(problems.warnings), model_count=model_count)
    result.rendered, result.reused = renders.misses, renders.hits
    changed = stale_files(files, output_dir) if check or only_if_stale else None
    if check:
        result.stale = changed or []
    elif not only_if_stale or changed:
        write_atomically(files, output_dir)
        renders.save()
    if only_if_stale:
        result.stale = changed or []  # what this call rewrote
    if inputs is not None and not (
        check and result.stale
    ):  # what a no-op `--check` compares (see seeknal_sqlmesh/fingerprint.py)
        fingerprint.record(Path(project_dir), output_dir, options, inputs, files, [str(w) for w in result.warnings])
    return result


__all__ = ["Problems", "TranslationResult", "load_project", "translate_project"]
