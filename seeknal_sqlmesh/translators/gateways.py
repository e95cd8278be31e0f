"""profiles.yml connections -> SQLMesh gateways. Secrets stay environment-variable references."""

from __future__ import annotations

import typing as t

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
    values = [var] if default is None else [var, default.replace('"', '\\"')]
    return "{{ env_var(" + ", ".join(f'"{v}"' for v in values) + ") }}"


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
