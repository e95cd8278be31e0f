"""Online values: the latest row per requested key, read from the latest-value models (`feature_store.<group>__latest`,
one row per key, kept up to date by every plan/run), never from history.

The requested keys become a VALUES list with their position; each group's latest table is LEFT JOINed on the keys.
With a TTL, a value whose event time is older than `as_of - ttl` is NULL (as if the key had no value).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlglot import exp

from seeknal_sqlmesh.features import sql as q
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.sqlkit import Expr, alias, and_all, col, ident, string, table


@dataclass
class LatestTable:
    group: str
    table: str
    join_keys: t.List[str]
    event_time: str
    columns: t.Dict[str, exp.DataType]
    outputs: t.List[t.Tuple[str, str]]  # (feature, output column)
    ttl: t.Optional[timedelta]


def normalise_keys(keys: t.Sequence[t.Any], join_keys: t.Sequence[str]) -> t.List[t.Tuple[t.Any, ...]]:
    """Scalars (one join key), tuples in join-key order, or dicts by join-key name -> tuples."""
    out = []
    for key in keys:
        if isinstance(key, dict):
            missing = [k for k in join_keys if k not in key]
            if missing:
                raise FeatureStoreError(
                    f"key {key!r} has no value for {', '.join(missing)} (join keys: {', '.join(join_keys)})"
                )
            out.append(tuple(key[k] for k in join_keys))
        elif isinstance(key, (tuple, list)):
            if len(key) != len(join_keys):
                raise FeatureStoreError(f"key {key!r} needs {len(join_keys)} values ({', '.join(join_keys)})")
            out.append(tuple(key))
        else:
            if len(join_keys) != 1:
                raise FeatureStoreError(
                    f"the entity has {len(join_keys)} join keys ({', '.join(join_keys)}): give each key as a dict or tuple"
                )
            out.append((key,))
    if not out:
        raise FeatureStoreError("give at least one key")
    return out


def _literal(value: t.Any, to: exp.DataType) -> Expr:
    if value is None:
        return exp.Cast(this=exp.Null(), to=to.copy())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        literal: Expr = string(str(value))
    else:
        literal = exp.Literal.number(value)
    return exp.Cast(this=literal, to=to.copy())


def online_query(
    join_keys: t.Sequence[str], keys: t.Sequence[t.Tuple[t.Any, ...]], tables: t.Sequence[LatestTable], as_of: datetime
) -> exp.Select:
    first = tables[0]
    key_types = [first.columns[k] for k in join_keys]
    rows = [
        exp.Tuple(expressions=[q.number(i), *[_literal(v, ty) for v, ty in zip(key, key_types, strict=True)]])
        for i, key in enumerate(keys)
    ]
    values = exp.Values(
        expressions=rows,
        alias=exp.TableAlias(this=ident("r"), columns=[ident(q.ROW), *[ident(k) for k in join_keys]]),
    )
    query = q.select(*[col(k, "r") for k in join_keys], source=values)
    now = q.timestamp(as_of)
    for i, latest in enumerate(tables):
        g = f"g{i}"
        on = and_all([q.eq(col(k, "r"), col(k, g)) for k in join_keys])
        query.append("joins", exp.Join(this=table(latest.table, g), on=on, side="LEFT"))
        for feature, out in latest.outputs:
            value: Expr = col(feature, g)
            if latest.ttl is not None:
                fresh = exp.GTE(
                    this=exp.Cast(this=col(latest.event_time, g), to=exp.DataType.build("TIMESTAMP")),
                    expression=q.minus_seconds(now.copy(), latest.ttl),
                )
                value = exp.Case(ifs=[exp.If(this=fresh, true=value)], default=exp.Null())
            query.append("expressions", alias(value, out))
    query.set("order", exp.Order(expressions=[exp.Ordered(this=col(q.ROW, "r"))]))
    return query
