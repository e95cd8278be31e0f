"""The StarRocks plugin's part of translation.

- Exposures of type `starrocks_materialized_view` become models of the `starrocks_mv` kind on the StarRocks gateway.
- A node's `starrocks:` mapping becomes the physical properties of its models that run on a StarRocks gateway.
"""

from __future__ import annotations

import typing as t

import sqlglot
from sqlglot import exp

from seeknal_sqlmesh.project.models import ExposureNode, Node, Profile, Project
from seeknal_sqlmesh.starrocks import NODE_KEY
from seeknal_sqlmesh.translators.base import ModelSpec, NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.exposure import exposure_translation
from seeknal_sqlmesh.translators.gateways import gateways_from_profile, starrocks_gateway
from seeknal_sqlmesh.translators.kinds import apply_node_metadata

MV_EXPOSURE_TYPE = "starrocks_materialized_view"
MV_SETTINGS = ("partition_by", "distributed_by", "order_by")
CONNECTION_PARAMS = ("host", "port", "user", "password", "database")


def translate_exposure(node: ExposureNode, ctx: TranslationContext) -> NodeTranslation:
    out = exposure_translation(node)
    mv = starrocks_mv(node, ctx)
    if mv is not None:
        out.models.append(mv)
    return out


def starrocks_mv(node: ExposureNode, ctx: TranslationContext) -> t.Optional[ModelSpec]:
    """`type: starrocks_materialized_view` -> a `starrocks_mv` model on the StarRocks gateway.

    `params.query` is StarRocks SQL; a table named like one of the exposure's upstream nodes (`analytics.daily_sales`
    for `transform.daily_sales`) reads that node's model, so SQLMesh orders, versions and rebuilds the MV with it.
    """
    from sqlmesh.utils.errors import ConfigError

    from seeknal_sqlmesh.starrocks.materialization import NAME, parse_refresh

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


def starrocks_gateways(profile: Profile) -> t.Set[str]:
    return {name for name, config in gateways_from_profile(profile).items() if config["type"] == "starrocks"}


STARROCKS_KEY_TYPES = {"primary": "primary_key", "duplicate": "duplicate_key", "unique": "unique_key"}
STARROCKS_NODE_KEYS = ("key_type", "keys", "partition_by", "distributed_by", "order_by", "properties")


def _columns(value: t.Any) -> exp.Expr:
    names = [value] if isinstance(value, str) else list(value)
    columns = [exp.column(n) for n in names]
    return columns[0] if len(columns) == 1 else exp.Tuple(expressions=columns)


def starrocks_physical_properties(node: Node, ctx: TranslationContext) -> t.Dict[str, exp.Expr]:
    """A node's `starrocks:` settings -> the StarRocks adapter's physical_properties:

    ```yaml
    starrocks:
      key_type: primary            # primary | duplicate | unique, with `keys`
      keys: [order_id]
      partition_by: order_date     # a column, a list, or an expression such as "date_trunc('month', order_date)"
      distributed_by: "HASH(order_id) BUCKETS 8"
      order_by: [order_date]
      properties: {replication_num: "1"}
    ```
    """
    raw = getattr(node, NODE_KEY, None)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        ctx.error(
            node, NODE_KEY, "must be a mapping of key_type, keys, partition_by, distributed_by, order_by, properties"
        )
        return {}
    unknown = sorted(set(raw) - set(STARROCKS_NODE_KEYS))
    if unknown:
        ctx.error(node, NODE_KEY, f"unknown settings {', '.join(unknown)}", f"known: {', '.join(STARROCKS_NODE_KEYS)}")
    props: t.Dict[str, exp.Expr] = {}
    key_type = str(raw.get("key_type", "")).lower()
    if key_type or raw.get("keys"):
        if key_type not in STARROCKS_KEY_TYPES or not raw.get("keys"):
            ctx.error(node, "starrocks.key_type", "a table key needs key_type (primary, duplicate, unique) and keys")
        else:
            props[STARROCKS_KEY_TYPES[key_type]] = _columns(raw["keys"])
    if raw.get("partition_by"):
        value = raw["partition_by"]
        props["partitioned_by"] = (
            exp.maybe_parse(value, dialect="starrocks") if isinstance(value, str) and "(" in value else _columns(value)
        )
    if raw.get("distributed_by"):
        props["distributed_by"] = exp.Literal.string(str(raw["distributed_by"]))
    if raw.get("order_by"):
        props["order_by"] = _columns(raw["order_by"])
    for key, value in sorted((raw.get("properties") or {}).items()):
        props[str(key)] = exp.Literal.string(str(value))
    return props


def apply_starrocks_properties(project: Project, ctx: TranslationContext, pieces: t.Dict[str, NodeTranslation]) -> None:
    """Give models that run on a StarRocks gateway their node's `starrocks:` table settings (after gateways are
    assigned). On other engines the settings mean nothing: a warning says they are ignored."""
    gateways = starrocks_gateways(project.profile)
    for node_id in project.order:
        node = project.nodes[node_id]
        props = starrocks_physical_properties(node, ctx)
        if not props:
            continue
        for spec in pieces[node_id].models:
            if spec.gateway in gateways and spec.python_source is None and spec.kind.get("name") != "CUSTOM":
                spec.physical_properties.update(props)
            else:
                ctx.warn(
                    node,
                    NODE_KEY,
                    "StarRocks table settings apply to SQL models on a StarRocks gateway only: ignored here",
                )
