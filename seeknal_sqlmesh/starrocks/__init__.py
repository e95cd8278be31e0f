"""StarRocks plugin: SQLMesh engine adapter, async materialized-view model kind, catalog and metric DDL.

`register()` runs when `seeknal_sqlmesh.runtime.config` is imported, which every translated project's `config.py`
does before SQLMesh parses its gateways: the stock `sqlmesh` CLI then builds `type: starrocks` gateways with
`SeeknalStarRocksConnectionConfig` / `SeeknalStarRocksEngineAdapter`, and finds the `starrocks_mv` materialization.
Nothing in SQLMesh is patched: its registries are dictionaries meant to be looked up by type name.
"""

from __future__ import annotations

TYPE_NAME = "starrocks"
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
