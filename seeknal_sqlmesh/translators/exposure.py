"""`exposure` nodes. File exposures (csv, parquet, json, jsonl) keep exporting after every plan/run through a
SQLMesh `after_all` statement; StarRocks materialized views become models of the `starrocks_mv` kind on their
StarRocks gateway; the other types (api, database, notification, report) have no SQLMesh equivalent and are kept
as metadata with a warning."""

from __future__ import annotations

import typing as t

import sqlglot
from sqlglot import exp

from seeknal_sqlmesh.project.models import ExposureNode
from seeknal_sqlmesh.translators.base import ModelSpec, NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.kinds import apply_node_metadata

FILE_FORMATS = ("csv", "parquet", "json", "jsonl")
MV_SETTINGS = ("partition_by", "distributed_by", "order_by")
CONNECTION_PARAMS = ("host", "port", "user", "password", "database")


def translate(node: ExposureNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    upstream = node.upstream
    out.metadata = {"type": node.type, "params": node.params, "upstream_model": upstream[0] if upstream else None}
    if node.type == "file":
        path = node.params.get("path") or node.url
        fmt = str(node.params.get("format", "")).lower() or (str(path).rsplit(".", 1)[-1].lower() if path else "")
        if not upstream:
            ctx.error(node, "depends_on", "a file exposure needs the node it exports in depends_on or inputs")
        elif not path:
            ctx.error(node, "params.path", "a file exposure needs params.path")
        elif fmt not in FILE_FORMATS:
            ctx.error(
                node, "params.format", f"unsupported format '{fmt}'", f"expected one of {', '.join(FILE_FORMATS)}"
            )
        elif upstream[0] in ctx.table_names:
            ctx.error(node, "depends_on", f"'{upstream[0]}' is an external table; SQLMesh does not build it here")
        else:
            out.exports.append(
                {"node": node.id, "model": upstream[0], "path": ctx.project_path(str(path)), "format": fmt}
            )
        return out
    if node.type == "starrocks_materialized_view":
        mv = starrocks_mv(node, ctx)
        if mv is not None:
            out.models.append(mv)
        return out
    ctx.warn(
        node,
        "type",
        f"exposure type '{node.type}' has no SQLMesh equivalent: kept as metadata in seeknal/manifest.json",
    )
    return out


def starrocks_mv(node: ExposureNode, ctx: TranslationContext) -> t.Optional[ModelSpec]:
    """`type: starrocks_materialized_view` -> a `starrocks_mv` model on the StarRocks gateway.

    `params.query` is StarRocks SQL; a table named like one of the exposure's upstream nodes (`analytics.daily_sales`
    for `transform.daily_sales`) reads that node's model, so SQLMesh orders, versions and rebuilds the MV with it.
    """
    from sqlmesh.utils.errors import ConfigError

    from seeknal_sqlmesh.starrocks.materialization import NAME, parse_refresh
    from seeknal_sqlmesh.translators.gateways import starrocks_gateway

    params = node.params
    gateway = starrocks_gateway(node, ctx)
    if gateway is None:
        ctx.error(node, "type", "a StarRocks materialized view needs a `starrocks:` connection in profiles.yml")
        return None
    if any(k in params for k in CONNECTION_PARAMS):
        ctx.warn(
            node,
            "params",
            f"connection settings come from the '{gateway}' gateway (profiles.yml), not from the exposure",
        )
    try:
        query = sqlglot.parse_one(str(params.get("query") or ""), read="starrocks")
    except sqlglot.errors.ParseError as e:
        ctx.error(node, "params.query", f"not StarRocks SQL: {str(e).splitlines()[0]}")
        return None
    if not isinstance(query, exp.Query):
        ctx.error(node, "params.query", "a materialized view needs a SELECT query")
        return None
    upstream = {up.split(".", 1)[1]: up for up in node.upstream}
    for table in list(query.find_all(exp.Table)):
        if not table.catalog and table.name in upstream:
            model_table = ctx.table_of(upstream[table.name])
            model_table.set("alias", table.args.get("alias"))
            table.replace(model_table)
    try:
        refresh = parse_refresh(str(params.get("refresh") or "MANUAL"))
    except ConfigError as e:
        ctx.error(node, "params.refresh", str(e))
        return None
    settings: t.List[exp.Expr] = [exp.EQ(this=exp.column("refresh"), expression=exp.Literal.string(refresh))]
    for key in MV_SETTINGS:
        if params.get(key):
            value = params[key]
            parsed = (
                exp.Literal.string(value)
                if key == "distributed_by"
                else (
                    exp.maybe_parse(value, dialect="starrocks")
                    if isinstance(value, str)
                    else exp.Tuple(expressions=[exp.column(v) for v in value])
                )
            )
            settings.append(exp.EQ(this=exp.column(key), expression=parsed))
    properties = params.get("properties") or {}
    if properties:
        pairs = [
            exp.EQ(this=exp.column(str(k)), expression=exp.Literal.string(str(v)))
            for k, v in sorted(properties.items())
        ]
        settings.append(exp.EQ(this=exp.column("properties"), expression=exp.Tuple(expressions=pairs)))
    kind = {
        "name": "CUSTOM",
        "materialization": exp.Literal.string(NAME),
        "materialization_properties": exp.Tuple(expressions=settings),
    }
    spec = ModelSpec(name=node.id, node=node, query=query, kind=kind, gateway=gateway)
    apply_node_metadata(spec, node, ctx)
    spec.dialect = "starrocks"
    if params.get("mv_name"):
        spec.description = f"{spec.description}\n(Seeknal mv_name: {params['mv_name']})".strip()
    return spec
