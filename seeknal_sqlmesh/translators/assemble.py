"""Collect every node's translation into the files of one SQLMesh project."""

from __future__ import annotations

import copy
import typing as t

from seeknal_sqlmesh import plugins
from seeknal_sqlmesh.contract import Layout, Manifest, NodeEntry
from seeknal_sqlmesh.project.models import Project
from seeknal_sqlmesh.runtime.config import GATEWAY_MODELS_KEY, relative_data_dir, shared_state_connection
from seeknal_sqlmesh.sqlkit import to_sql
from seeknal_sqlmesh.translators.base import AuditSpec, ModelSpec, NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.cache import RenderCache
from seeknal_sqlmesh.translators.gateways import gateways_from_profile
from seeknal_sqlmesh.translators.output import GENERATED_HEADER, dump_yaml, render_all
from seeknal_sqlmesh.translators.sql import macro_call

DEFAULT_GATEWAY = "duckdb"
EXTERNAL_WITHOUT_GATEWAY = "iceberg"  # Iceberg sources: a catalog the default engine must attach (see README)

CONFIG_PY = f'''"""SQLMesh configuration of this translated Seeknal project. {GENERATED_HEADER}

Settings live in settings.yaml; this file loads them so relative paths (the DuckDB warehouse) resolve against
this folder from any working directory, and registers seeknal-sqlmesh's engine plugins.
"""

from pathlib import Path

from seeknal_sqlmesh.runtime.config import load_project_config

config = load_project_config(Path(__file__).parent)
'''

MACROS_PY = f'''"""Seeknal macros (@seeknal_file, @seeknal_date, @seeknal_env, @seeknal_run_id, @seeknal_export). {GENERATED_HEADER}"""

from seeknal_sqlmesh.macros import register

register()
'''


def _deep_merge(base: t.Dict[str, t.Any], override: t.Dict[str, t.Any]) -> t.Dict[str, t.Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def settings(
    project: Project,
    overrides: t.Dict[str, t.Any],
    start: str,
    after_all: t.List[str],
    gateway_models: t.Dict[str, t.List[str]],
    data_dir: str = ".",
) -> t.Dict[str, t.Any]:
    """`data_dir` is the data area relative to the translated folder (`../sample.data`): warehouse, state, cache."""
    gateways: t.Dict[str, t.Any] = {
        DEFAULT_GATEWAY: {
            "connection": {"type": "duckdb", "database": f"{data_dir}/{Layout.WAREHOUSE}"},
            "state_connection": shared_state_connection(data_dir),
        }
    }
    for name, connection in gateways_from_profile(project.profile).items():
        gateways[name] = {"connection": connection, "state_connection": shared_state_connection(data_dir)}
    data: t.Dict[str, t.Any] = {
        "project": project.name,
        Layout.DATA_DIR_KEY: data_dir,  # read by seeknal_sqlmesh.runtime.config (non-prod exports go there)
        "cache_dir": f"{data_dir}/{Layout.CACHE_DIR}",
        "gateways": gateways,
        "default_gateway": DEFAULT_GATEWAY,
        "model_defaults": {"dialect": "duckdb", "start": start, "cron": "@daily"},
    }
    if after_all:
        data["after_all"] = after_all
    if gateway_models:
        # read by seeknal_sqlmesh.runtime.config: models of gateways not requested for this run are not loaded
        data[GATEWAY_MODELS_KEY] = gateway_models
    return _deep_merge(data, overrides)


def assign_gateways(project: Project, ctx: TranslationContext, pieces: t.Dict[str, NodeTranslation]) -> None:
    """A model runs where its inputs live: reading a Postgres/StarRocks/Iceberg source (or a model on such a
    gateway) puts the model on that gateway. Models reading only local files stay on the default gateway."""
    gateway_of: t.Dict[str, t.Optional[str]] = {}
    for node_id in project.order:
        piece = pieces[node_id]
        if piece.externals:
            gateway_of[node_id] = piece.externals[0].gateway or EXTERNAL_WITHOUT_GATEWAY
            continue
        ups = {gateway_of.get(u) for u in project.edges.get(node_id, [])}
        remote = sorted(g for g in ups if g)
        if len(remote) > 1:
            ctx.error(
                project.nodes[node_id],
                "inputs",
                f"reads tables of several engines ({', '.join(remote)}); SQLMesh runs a model on one engine",
            )
        gateway = remote[0] if remote else None
        if (
            gateway
            and None in ups
            and any(gateway_of.get(u) is None and pieces[u].models for u in project.edges.get(node_id, []))
        ):
            ctx.warn(
                project.nodes[node_id],
                "inputs",
                f"mixes local data with tables of gateway '{gateway}': it runs on '{gateway}'",
            )
        gateway_of[node_id] = gateway
        for spec in piece.models:
            spec.gateway = spec.gateway or gateway


def extra_dependencies(
    project: Project,
    ctx: TranslationContext,
    target: str,
    node_id: str,
    reach: t.Optional[Reachability] = None,
) -> t.List[str]:
    """Tables a rule's audit reads besides the audited model: they must be built first (SQLMesh `depends_on`)."""
    others = [u for u in project.edges.get(node_id, []) if u != target]
    if not others:
        return []
    reach = reach or Reachability(project, others)
    clash = [o for o in others if reach.built_from(o, target)]
    if clash:
        ctx.error(
            project.nodes[node_id],
            "inputs",
            f"checks {target} against {', '.join(clash)}, which is built from it",
            "SQLMesh audits run right after their model; check the downstream node instead",
        )
        return []
    return [to_sql(ctx.table_of(o)) for o in others]


class Reachability:
    """Is a node of `wanted` built (directly or not) from another node? One pass over the DAG in reverse topological
    order gives every node the set of `wanted` nodes downstream of it, as a bitset: checking every rule costs
    O((nodes + edges) * len(wanted) / 64), not one walk of the target's descendants per rule."""

    def __init__(self, project: Project, wanted: t.Iterable[str]) -> None:
        self._bit = {node_id: 1 << i for i, node_id in enumerate(sorted(set(wanted)))}
        self._below: t.Dict[str, int] = {}
        if not self._bit:
            return
        for node_id in reversed(project.order):
            below = 0
            for child in project.downstream(node_id):
                below |= self._below.get(child, 0) | self._bit.get(child, 0)
            self._below[node_id] = below

    def built_from(self, node_id: str, ancestor: str) -> bool:
        return bool(self._below.get(ancestor, 0) & self._bit.get(node_id, 0))


def assemble(
    project: Project,
    ctx: TranslationContext,
    pieces: t.Dict[str, NodeTranslation],
    overrides: t.Dict[str, t.Any],
    start: str,
    cache: t.Optional[RenderCache] = None,
) -> t.Tuple[t.Dict[str, str], int]:
    """Every file of the translated project, and the number of models. `cache`: rendered models to reuse."""
    specs: t.Dict[str, ModelSpec] = {}
    by_node: t.Dict[str, ModelSpec] = {}
    for node_id in project.order:
        for spec in pieces[node_id].models:
            specs[spec.name] = spec
            by_node.setdefault(node_id, spec)

    # the nodes rules check their target against: one reachability pass serves every rule
    reach = Reachability(
        project,
        (
            u
            for node_id in project.order
            for target, audit in pieces[node_id].audits_for
            if isinstance(audit, AuditSpec)
            for u in project.edges.get(node_id, [])
            if u != target
        ),
    )
    for node_id in project.order:
        for target, audit in pieces[node_id].audits_for:
            audited = by_node.get(target)
            node = project.nodes[node_id]
            if audited is None:
                ctx.error(node, "inputs", f"'{target}' is not a model SQLMesh builds, so it cannot be audited")
                continue
            if isinstance(audit, AuditSpec):
                audited.custom_audits.append(audit)
                audited.depends_on.extend(
                    d for d in extra_dependencies(project, ctx, target, node_id, reach) if d not in audited.depends_on
                )
            else:
                audited.audits.append(audit)

    assign_gateways(project, ctx, pieces)
    contributions = plugins.assemble(plugins.Assembly(project, ctx, pieces))
    for contribution in contributions.values():
        specs.update((spec.name, spec) for spec in contribution.models)

    files: t.Dict[str, str] = {Layout.CONFIG_PY: CONFIG_PY, Layout.MACROS_PY: MACROS_PY}
    model_files: t.Dict[str, ModelSpec] = {}
    sql_specs = []
    for _, spec in sorted(specs.items()):
        base = f"models/{spec.schema_name}/{spec.table_name}"
        model_files[f"{base}.py" if spec.python_source is not None else f"{base}.sql"] = spec
        if spec.python_source is not None:
            files[f"{base}.py"] = spec.python_source
        else:
            sql_specs.append(spec)
    for spec, rendered in zip(sql_specs, render_all(sql_specs, cache), strict=True):
        if isinstance(rendered, Exception):  # SQLMesh rejected the model: report it on the node, keep collecting
            ctx.error(spec.node, "", f"SQLMesh rejects the translated model {spec.name}: {rendered}")
            continue
        model_sql, audits_sql = rendered
        files[f"models/{spec.schema_name}/{spec.table_name}.sql"] = model_sql
        if audits_sql:
            files[f"audits/{spec.schema_name}__{spec.table_name}.sql"] = audits_sql

    externals = [e for node_id in project.order for e in pieces[node_id].externals]
    if externals:
        entries = []
        for ext in sorted(externals, key=lambda e: e.name):
            entry: t.Dict[str, t.Any] = {"name": ext.name}
            if ext.description:
                entry["description"] = ext.description
            if ext.gateway:
                entry["gateway"] = ext.gateway
            if ext.columns:
                entry["columns"] = dict(sorted(ext.columns.items()))
            entries.append(entry)
        files[Layout.EXTERNAL_MODELS] = dump_yaml(entries)

    exports = [x for node_id in project.order for x in pieces[node_id].exports]
    after_all = [export_statement(x) for x in exports]
    gateway_models: t.Dict[str, t.List[str]] = {}
    for path, spec in model_files.items():
        if spec.gateway:
            gateway_models.setdefault(spec.gateway, []).append(path)
            if spec.custom_audits:
                gateway_models[spec.gateway].append(f"audits/{spec.schema_name}__{spec.table_name}.sql")
    gateway_models = {g: sorted(paths) for g, paths in sorted(gateway_models.items())}
    data_dir = relative_data_dir(ctx.output_dir)
    files[Layout.SETTINGS] = dump_yaml(settings(project, overrides, start, after_all, gateway_models, data_dir))

    nodes: t.Dict[str, NodeEntry] = {}
    for node_id in project.order:
        node, piece = project.nodes[node_id], pieces[node_id]
        nodes[node_id] = NodeEntry(
            kind=node.kind,
            file=ctx.problems.relative(node.path),
            models=[s.name for s in piece.models],
            upstream=project.edges.get(node_id, []),
            external_table=ctx.table_names.get(node_id),
            data_files=_data_files(node, piece, ctx) if node.kind == "source" else None,
            **piece.metadata,
        )
        files.update(piece.files)
    for contribution in contributions.values():
        files.update(contribution.files)
    manifest = Manifest(
        project=project.name,
        seeknal_project=ctx.project_path("."),
        nodes=nodes,
        plugins={
            name: c.manifest.model_dump(mode="json") for name, c in contributions.items() if c.manifest is not None
        },
        warnings=[str(w) for w in ctx.problems.warnings],
    )
    files[Layout.MANIFEST] = manifest.to_json()
    return dict(sorted(files.items())), len(specs)


def _data_files(node: t.Any, piece: NodeTranslation, ctx: TranslationContext) -> t.Optional[t.List[str]]:
    """The files a source reads (the `@seeknal_file` arguments of its model, or its SQLite file), as written in the
    translated project: `seeknal run` restates a source whose files changed since it processed them."""
    from sqlglot import exp

    found: t.List[str] = []
    for spec in piece.models:
        if spec.query is not None:
            for call in spec.query.find_all(exp.Anonymous):
                if call.name.lower() == "seeknal_file" and call.expressions:
                    found.append(call.expressions[0].name)
        elif node.source == "sqlite":
            path = str(node.params.get("path") or node.table or "")
            if path and "{{" not in path:
                found.append(ctx.project_path(path))
    return sorted(set(found)) or None


def export_statement(export: t.Dict[str, t.Any]) -> str:
    """An `after_all` statement: SQLMesh runs it after every plan/run, in the environment being updated."""
    return to_sql(macro_call("seeknal_export", export["model"], export["path"], export["format"]))
