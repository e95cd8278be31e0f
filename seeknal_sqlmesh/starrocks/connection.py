"""`type: starrocks` gateways with seeknal-sqlmesh's adapter.

The config keeps SQLMesh's type name `starrocks`, so translated (and hand-written) `settings.yaml` files say
`type: starrocks`, and SQLMesh keeps refusing StarRocks as a state store (state stays on DuckDB).
"""

from __future__ import annotations

import typing as t

from sqlmesh.core.config.connection import StarRocksConnectionConfig

if t.TYPE_CHECKING:
    from sqlmesh.core.engine_adapter import EngineAdapter


class SeeknalStarRocksConnectionConfig(StarRocksConnectionConfig):
    @property
    def _engine_adapter(self) -> t.Type[EngineAdapter]:
        from seeknal_sqlmesh.starrocks.adapter import SeeknalStarRocksEngineAdapter

        return SeeknalStarRocksEngineAdapter
