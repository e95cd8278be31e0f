"""profiles.yml connections -> SQLMesh gateways. Secrets stay environment-variable references."""

from __future__ import annotations

import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import Connection, Node, Profile, SourceNode
from seeknal_sqlmesh.translators.base import TranslationContext

# Seeknal connection keys -> SQLMesh connection config keys, per engine
_KEYS = {
    "postgres": {
        "host": "host",
        "port": "port",
        "database": "database",
        "user": "user",
        "password": "password",
        "sslmode": "sslmode",
        "connect_timeout": "connect_timeout",
    },
    "starrocks": {"host": "host", "port": "port", "database": "database", "user": "user", "password": "password"},
}
_SQLMESH_TYPE = {"postgresql": "postgres", "postgres": "postgres", "starrocks": "starrocks"}


def env_reference(var: str, default: t.Optional[str]) -> str:
    """`${VAR:default}` -> SQLMesh's YAML config form `{{ env_var("VAR", "default") }}`.

    Double quotes on purpose: SQLMesh renders Jinja on the raw file before YAML parsing, and YAML doubles
    single quotes inside single-quoted scalars.
    """
    if default is None:
        return '{{ env_var("%s") }}' % var
    return '{{ env_var("%s", "%s") }}' % (var, default.replace('"', '\\"'))


def connection_config(conn: Connection) -> t.Optional[t.Dict[str, t.Any]]:
    engine = _SQLMESH_TYPE.get(conn.type)
    if engine is None:
        return None
    # check_import false: the project must load (and plan on DuckDB) on machines without this engine's driver
    config: t.Dict[str, t.Any] = {"type": engine, "check_import": False}
    for seeknal_key, sqlmesh_key in _KEYS[engine].items():
        if seeknal_key in conn.env_refs:
            var, default = conn.env_refs[seeknal_key]
            config[sqlmesh_key] = env_reference(var, default)
        elif seeknal_key in conn.values:
            value = conn.values[seeknal_key]
            if seeknal_key == "password" and value not in (None, ""):
                # never write a literal secret: point at an environment variable named after the connection
                config[sqlmesh_key] = env_reference(f"{conn.name.upper()}_PASSWORD", None)
            else:
                config[sqlmesh_key] = value
    if engine == "starrocks":
        config.setdefault("port", 9030)
    return config


def gateways_from_profile(profile: Profile) -> t.Dict[str, t.Dict[str, t.Any]]:
    gateways: t.Dict[str, t.Dict[str, t.Any]] = {}
    for name, conn in sorted(
        {
            **profile.connections,
            **{f"starrocks_{k}" if k in profile.connections else k: v for k, v in profile.starrocks.items()},
        }.items()
    ):
        config = connection_config(conn)
        if config is not None:
            gateways[name] = config
    return gateways


def gateway_for_source(node: SourceNode, ctx: TranslationContext) -> t.Optional[str]:
    """The gateway a database source reads through: `params.connection` (or source_defaults), else none."""
    profile = ctx.project.profile
    name = node.params.get("connection")
    if node.source == "starrocks":
        return starrocks_gateway(node, ctx)
    if node.source == "postgresql":
        if name and name not in profile.connections:
            ctx.error(
                node,
                "params.connection",
                f"no connection '{name}' in profiles.yml",
                f"known: {', '.join(sorted(profile.connections)) or 'none'}",
            )
        elif not name:
            ctx.warn(
                node, "params", "inline connection settings: add a named connection to profiles.yml to get a gateway"
            )
        return name
    ctx.warn(
        node, "source", "Iceberg tables are read by name; attach the catalog in the gateway (see the iceberg plugin)"
    )
    return None


def starrocks_gateway(node: Node, ctx: TranslationContext) -> t.Optional[str]:
    """The StarRocks gateway of a node: `params.connection`, else profiles.yml's `starrocks: default`, else its first."""
    profile = ctx.project.profile
    name = node.params.get("connection") or (
        "default" if "default" in profile.starrocks else next(iter(profile.starrocks), None)
    )
    if name and name not in profile.starrocks and name not in profile.connections:
        ctx.error(node, "params.connection", f"no StarRocks connection '{name}' in profiles.yml")
    return name


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
    raw = getattr(node, "starrocks", None)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        ctx.error(
            node, "starrocks", "must be a mapping of key_type, keys, partition_by, distributed_by, order_by, properties"
        )
        return {}
    unknown = sorted(set(raw) - set(STARROCKS_NODE_KEYS))
    if unknown:
        ctx.error(
            node, "starrocks", f"unknown settings {', '.join(unknown)}", f"known: {', '.join(STARROCKS_NODE_KEYS)}"
        )
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


def apply_starrocks_properties(project: t.Any, ctx: TranslationContext, pieces: t.Dict[str, t.Any]) -> None:
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
                    "starrocks",
                    "StarRocks table settings apply to SQL models on a StarRocks gateway only: ignored here",
                )
