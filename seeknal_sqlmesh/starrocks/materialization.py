"""StarRocks async materialized views as a SQLMesh model kind.

```
MODEL (
  name reporting.daily_revenue,
  kind CUSTOM (
    materialization 'starrocks_mv',
    materialization_properties (
      refresh = 'ASYNC EVERY (INTERVAL 1 HOUR)',      -- or 'MANUAL' (the default), 'ASYNC', 'ASYNC START (...) EVERY (...)'
      partition_by = order_date,                      -- column(s) or date_trunc('day', col)
      distributed_by = 'HASH(order_date) BUCKETS 4',  -- or 'RANDOM'
      order_by = (order_date),
      properties = (replication_num = '1')
    )
  ),
  gateway reporting
);
SELECT ...
```

Each model version is one physical async MV (the environment views point at it, as for any SQLMesh model). It is
created `REFRESH DEFERRED` and then refreshed synchronously once, so a plan finishes with data in the MV. After
that StarRocks refreshes `ASYNC` MVs itself; `MANUAL` MVs are refreshed on the model's cron by `sqlmesh run`. A
restatement refreshes the MV again. StarRocks has no `CREATE OR REPLACE MATERIALIZED VIEW`: a migrated version is
dropped and created again.
"""

from __future__ import annotations

import re
import typing as t

from pydantic import model_validator
from sqlglot import exp
from sqlmesh import CustomKind, CustomMaterialization
from sqlmesh.utils.errors import ConfigError

from seeknal_sqlmesh.starrocks.adapter import SeeknalStarRocksEngineAdapter, lower_case_date_trunc

if t.TYPE_CHECKING:
    from sqlmesh.core.engine_adapter._typing import QueryOrDF
    from sqlmesh.core.model import Model
    from sqlmesh.core.snapshot import Snapshot

NAME = "starrocks_mv"
KNOWN = ("refresh", "partition_by", "distributed_by", "order_by", "properties")
REFRESH = re.compile(
    r"^(?P<kind>ASYNC|MANUAL)"
    r"(?:\s+START\s*\(\s*'(?P<start>[^']+)'\s*\))?"
    r"(?:\s+EVERY\s*\(\s*INTERVAL\s+(?P<n>\d+)\s+(?P<unit>SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)S?\s*\))?$",
    re.IGNORECASE,
)


def parse_refresh(text: str) -> str:
    """Normalize `ASYNC EVERY(INTERVAL 1 hour)` to `ASYNC EVERY (INTERVAL 1 HOUR)`; raise on anything else."""
    m = REFRESH.match(" ".join(str(text).split()))
    if not m:
        raise ConfigError(
            f"starrocks_mv: refresh '{text}' is not one of MANUAL, ASYNC, ASYNC [START ('<datetime>')] EVERY (INTERVAL <n> <unit>)"
        )
    parts = [m["kind"].upper()]
    if m["kind"].upper() == "MANUAL" and (m["start"] or m["n"]):
        raise ConfigError(f"starrocks_mv: a MANUAL refresh has no START/EVERY (got '{text}')")
    if m["start"]:
        parts.append(f"START ('{m['start']}')")
    if m["n"]:
        parts.append(f"EVERY (INTERVAL {int(m['n'])} {m['unit'].upper()})")
    return " ".join(parts)


def _listify(value: t.Any) -> t.List[exp.Expr]:
    if value is None:
        return []
    if isinstance(value, (exp.Tuple, exp.Array)):
        return list(value.expressions)
    if isinstance(value, exp.Paren):
        return [value.this]
    if isinstance(value, str):
        return [exp.column(part.strip()) for part in value.split(",") if part.strip()]
    return [value]


class StarRocksMVKind(CustomKind):
    """`kind CUSTOM (materialization 'starrocks_mv', materialization_properties (...))`."""

    @model_validator(mode="after")
    def _check_properties(self) -> StarRocksMVKind:
        unknown = sorted(set(self.materialization_properties) - set(KNOWN))
        if unknown:
            raise ConfigError(f"starrocks_mv: unknown materialization_properties {unknown}; known: {', '.join(KNOWN)}")
        parse_refresh(self.refresh)
        return self

    @property
    def refresh(self) -> str:
        value = self.materialization_properties.get("refresh", "MANUAL")
        return parse_refresh(value.name if isinstance(value, exp.Expr) else str(value))

    @property
    def is_manual(self) -> bool:
        return self.refresh == "MANUAL"

    @property
    def partition_by(self) -> t.List[exp.Expr]:
        return [lower_case_date_trunc(e) for e in _listify(self.materialization_properties.get("partition_by"))]

    @property
    def order_by(self) -> t.List[exp.Expr]:
        return _listify(self.materialization_properties.get("order_by"))

    def view_properties(self) -> t.Dict[str, exp.Expr]:
        """The physical properties the built-in adapter renders: REFRESH, DISTRIBUTED BY and PROPERTIES (...)."""
        props: t.Dict[str, t.Any] = {
            # DEFERRED: StarRocks does not start filling the MV on its own; the plan refreshes it synchronously
            "refresh_moment": exp.Literal.string("DEFERRED"),
            "refresh_scheme": exp.Literal.string(self.refresh),
        }
        distributed = self.materialization_properties.get("distributed_by")
        if distributed is not None:
            props["distributed_by"] = exp.Literal.string(distributed) if isinstance(distributed, str) else distributed
        extra = self.materialization_properties.get("properties")
        for pair in _listify(extra):
            if not isinstance(pair, exp.EQ):
                raise ConfigError(f"starrocks_mv: properties must be (key = 'value', ...), got {pair.sql()}")
            value = pair.expression
            props[pair.this.name] = value if isinstance(value, exp.Literal) else exp.Literal.string(value.name)
        return props


class StarRocksMaterializedView(CustomMaterialization[StarRocksMVKind]):
    NAME = NAME

    def create(
        self,
        table_name: str,
        model: Model,
        is_table_deployable: bool,
        render_kwargs: t.Dict[str, t.Any],
        skip_grants: bool,
        **kwargs: t.Any,
    ) -> None:
        if self.adapter.table_exists(table_name):
            return
        self._create(table_name, model, model.render_query_or_raise(**render_kwargs), describe=is_table_deployable)

    def insert(
        self,
        table_name: str,
        query_or_df: QueryOrDF,
        model: Model,
        is_first_insert: bool,
        render_kwargs: t.Dict[str, t.Any],
        **kwargs: t.Any,
    ) -> None:
        if not self.adapter.table_exists(table_name):
            self._create(table_name, model, query_or_df)
        elif not (is_first_insert or _kind(model).is_manual):
            return  # an ASYNC MV refreshes itself on StarRocks' schedule
        self._starrocks(model).refresh_materialized_view(table_name)

    def append(
        self, table_name: str, query_or_df: QueryOrDF, model: Model, render_kwargs: t.Dict[str, t.Any], **kwargs: t.Any
    ) -> None:
        raise ConfigError(f"Cannot append to the materialized view '{table_name}'.")

    def migrate(self, target_table_name: str, source_table_name: str, snapshot: Snapshot, **kwargs: t.Any) -> None:
        from sqlmesh.utils.date import now

        model = snapshot.model
        query = model.render_query_or_raise(
            execution_time=now(), snapshots=kwargs["snapshots"], engine_adapter=self.adapter
        )
        self.adapter.drop_view(target_table_name, materialized=True, ignore_if_not_exists=True)
        self._create(target_table_name, model, query)
        self._starrocks(model).refresh_materialized_view(target_table_name)

    def delete(self, name: str, **kwargs: t.Any) -> None:
        self.adapter.drop_view(name, materialized=True, ignore_if_not_exists=True)

    def _starrocks(self, model: Model) -> SeeknalStarRocksEngineAdapter:
        """The gateway's adapter: async MVs and their refresh exist on seeknal-sqlmesh's StarRocks adapter only."""
        if not isinstance(self.adapter, SeeknalStarRocksEngineAdapter):
            raise ConfigError(
                f"{model.name}: the starrocks_mv kind runs on a StarRocks gateway, not {self.adapter.dialect}"
            )
        return self.adapter

    def _create(self, table_name: str, model: Model, query: QueryOrDF, describe: bool = True) -> None:
        kind = _kind(model)
        self._starrocks(model).create_view(
            table_name,
            query,
            model.columns_to_types,
            replace=False,
            materialized=True,
            materialized_properties={
                "partitioned_by": kind.partition_by,
                "clustered_by": kind.order_by,
                "partition_interval_unit": None,
            },
            view_properties=kind.view_properties(),
            table_description=model.description if describe else None,
            column_descriptions=model.column_descriptions if describe else None,
        )


def _kind(model: Model) -> StarRocksMVKind:
    kind = model.kind
    if not isinstance(kind, StarRocksMVKind):
        raise ConfigError(f"{model.name}: expected the starrocks_mv kind")
    return kind
