"""StarRocks plugin: SQLMesh engine adapter, async materialized-view model kind, catalog and metric DDL, REPL.

Registration goes through the plugin interface: when a translated project's settings are loaded
(`runtime.config.load_project_config`, called by its `config.py` before SQLMesh parses the gateways), each plugin's
`register_sqlmesh(settings)` runs, and this plugin's (`plugin.py`) calls `register()` only when the project has a
`type: starrocks` gateway. SQLMesh then builds those gateways with `SeeknalStarRocksConnectionConfig` /
`SeeknalStarRocksEngineAdapter` and finds the `starrocks_mv` materialization. Projects without a StarRocks gateway
keep SQLMesh's built-in StarRocks classes. Nothing in SQLMesh is patched: its registries are dictionaries meant to be
looked up by type name (registration is per process and idempotent).
"""

from __future__ import annotations

TYPE_NAME = "starrocks"  # the gateway connection type (SQLMesh's name, kept)
NODE_KEY = "starrocks"  # a node's StarRocks table settings (translate.starrocks_physical_properties)
_registered = False


def register() -> None:
    """Point SQLMesh's `starrocks` connection type and dialect at seeknal-sqlmesh's classes (idempotent)."""
    global _registered
    if _registered:
        return
    from sqlmesh.core import engine_adapter
    from sqlmesh.core.config import connection

    from seeknal_sqlmesh.starrocks import materialization  # noqa: F401  (defines the CUSTOM materialization)
    from seeknal_sqlmesh.starrocks.adapter import SeeknalStarRocksEngineAdapter
    from seeknal_sqlmesh.starrocks.connection import SeeknalStarRocksConnectionConfig

    connection.CONNECTION_CONFIG_TO_TYPE[TYPE_NAME] = SeeknalStarRocksConnectionConfig
    engine_adapter.DIALECT_TO_ENGINE_ADAPTER[TYPE_NAME] = SeeknalStarRocksEngineAdapter
    _registered = True
