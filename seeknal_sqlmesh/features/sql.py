"""The feature store's SQL: builders specific to feature groups, on top of the generic ones of `sqlkit`. Queries are
sqlglot trees rendered for each engine at the last moment, by `sqlkit.to_sql` only.

One rule decides which row of a feature group a lookup returns, everywhere (point-in-time retrieval in both
forms, the latest-value models, the entity views):

- rows whose join keys or event time are NULL are never returned;
- the row with the greatest event time wins;
- rows that tie on keys and event time are ordered by the group's feature columns, in table order, compared one
  after another with NULL as the lowest value; the greatest wins. Rows that still tie are equal in every column,
  so it does not matter which one is read.

`tie_order` writes that rule without NULLS FIRST/LAST (not every engine has them in window specifications): a
`CASE WHEN c IS NULL THEN 0 ELSE 1 END` key before each column.

The builders below always create fresh nodes and never copy trees (sqlglot's fluent builders copy on every call,
which made rendering cost more than running the query on small spines).
"""

from __future__ import annotations

import functools
import typing as t
from datetime import datetime, timedelta

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from seeknal_sqlmesh.sqlkit import Expr, alias, and_all, col, ident, string, subquery, table

ROW = "__seeknal_row"  # the spine's row number: output order, and the key the portable form joins back on
RANK = "__seeknal_rank"
EVENT = "__seeknal_et"  # a group's event time, cast to the type it is compared in


def select(*columns: Expr, source: Expr, where: t.Sequence[t.Optional[Expr]] = ()) -> exp.Select:
    query = exp.Select(expressions=list(columns), from_=exp.From(this=source))
    condition = and_all(where)
    if condition is not None:
        query.set("where", exp.Where(this=condition))
    return query


def eq(a: Expr, b: Expr) -> exp.EQ:
    return exp.EQ(this=a, expression=b)


def number(n: int) -> Expr:
    return exp.Literal.number(n)


def cast(e: Expr, to: t.Optional[exp.DataType]) -> Expr:
    return e if to is None else exp.Cast(this=e, to=to.copy())


def is_null(e: Expr) -> exp.Is:
    return exp.Is(this=e, expression=exp.Null())


def not_null(columns: t.Iterable[Expr]) -> t.Optional[Expr]:
    return and_all([exp.Not(this=is_null(c)) for c in columns])


def null_lowest(make: t.Callable[[], Expr], desc: bool, nulls_first: t.Optional[bool] = None) -> t.List[exp.Ordered]:
    """An expression ordered with NULL as its lowest value, in any engine (`make` builds a fresh copy).

    The CASE key decides where NULLs go, so the placement the keys state (`nulls_first`) never matters.
    """
    flag = exp.Case(ifs=[exp.If(this=is_null(make()), true=number(0))], default=number(1))
    return [
        exp.Ordered(this=flag, desc=desc, nulls_first=nulls_first),
        exp.Ordered(this=make(), desc=desc, nulls_first=nulls_first),
    ]


def tie_order(
    features: t.Sequence[str], desc: bool, table: t.Optional[str] = None, nulls_first: t.Optional[bool] = None
) -> t.List[exp.Ordered]:
    """The tie-break of rows with equal keys and event time (see the module docstring)."""
    return [o for f in features for o in null_lowest(functools.partial(col, f, table), desc, nulls_first)]


def natural_nulls_first(dialect: str, desc: bool = False) -> bool:
    """`nulls_first` for ORDER BY keys whose NULL placement does not matter (never NULL, or after a `tie_order`
    CASE key): where the engine puts NULLs anyway. sqlglot then writes no NULLS FIRST/LAST, which some engines
    (StarRocks) do not accept in a window with a frame, and has nothing to warn about."""
    ordering = Dialect.get_or_raise(dialect).NULL_ORDERING
    return ordering == ("nulls_are_large" if desc else "nulls_are_small")


def over(
    func: Expr, partition: t.Sequence[Expr], order: t.Sequence[exp.Ordered] = (), running: bool = False
) -> exp.Window:
    """`func OVER (PARTITION BY .. ORDER BY ..)`; `running`: ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW."""
    spec = (
        exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW") if running else None
    )
    return exp.Window(
        this=func, partition_by=list(partition), order=exp.Order(expressions=list(order)) if order else None, spec=spec
    )


def first_per_partition(
    query: exp.Select, partition: t.Callable[[], t.List[Expr]], order: t.Sequence[exp.Ordered], name: str
) -> exp.Select:
    """`query` keeping the first row of each partition: ROW_NUMBER in a subquery (engines without QUALIFY)."""
    outer = [col(e.alias_or_name) for e in query.expressions]
    query.append("expressions", alias(over(exp.RowNumber(), partition(), order), RANK))
    return select(*outer, source=subquery(query, name), where=[eq(col(RANK), number(1))])


def time_literal(value: datetime, to: exp.DataType) -> Expr:
    """A UTC moment (naive `value`) as a literal comparable with a column of type `to`."""
    if to.is_type(exp.DataType.Type.DATE):
        return exp.Cast(this=string(value.strftime("%Y-%m-%d")), to=exp.DataType.build("DATE"))
    if to.is_type(exp.DataType.Type.TIMESTAMPTZ, exp.DataType.Type.TIMESTAMPLTZ):
        return exp.Cast(this=string(value.strftime("%Y-%m-%d %H:%M:%S.%f+00:00")), to=exp.DataType.build("TIMESTAMPTZ"))
    return timestamp(value)


def timestamp(value: datetime) -> Expr:
    """A naive moment as a TIMESTAMP literal (microseconds kept)."""
    return exp.Cast(this=string(value.strftime("%Y-%m-%d %H:%M:%S.%f")), to=exp.DataType.build("TIMESTAMP"))


def minus_seconds(e: Expr, delta: timedelta) -> Expr:
    return exp.Sub(
        this=e, expression=exp.Interval(this=string(str(int(delta.total_seconds()))), unit=exp.var("SECOND"))
    )


# ---- the models `seeknal translate` writes -----------------------------------------------------------------------


def latest_value_query(source: str, keys: t.Sequence[str], event_time: str, features: t.Sequence[str]) -> exp.Select:
    """One row per entity key: the group's latest row (the module's rule), for online serving."""
    inner = select(
        *[col(c) for c in [*keys, event_time, *features]],
        source=table(source),
        where=[not_null(col(c) for c in [*keys, event_time])],
    )
    order = [exp.Ordered(this=col(event_time), desc=True), *tie_order(features, desc=True)]
    return first_per_partition(inner, lambda: [col(k) for k in keys], order, "ranked")


def one_row_per_event(
    source: str,
    keys: t.Sequence[str],
    event_time: str,
    features: t.Sequence[str],
    where: t.Optional[Expr] = None,
    name: str = "g",
) -> exp.Select:
    """The group's rows, one per (keys, event time): ties resolved by the module's rule."""
    inner = select(
        *[col(c) for c in [*keys, event_time, *features]],
        source=table(source),
        where=[not_null(col(c) for c in [*keys, event_time]), where],
    )
    return first_per_partition(
        inner, lambda: [col(c) for c in [*keys, event_time]], tie_order(features, desc=True), name
    )


def entity_view_query(
    keys: t.Sequence[str],
    groups: t.Sequence[t.Tuple[str, str, str, t.Sequence[str]]],
    interval: t.Optional[t.Callable[[], t.Tuple[Expr, Expr]]] = None,
    time_name: str = "event_time",
) -> exp.Select:
    """Every (keys, event time) at which any group of the entity has a row, with one struct per group.

    `groups`: (struct name, source table, event-time column, features). A group without a row at that point gives a
    NULL struct (a row whose features are NULL gives a struct of NULLs). `interval` builds the bounds (start, end) of
    the SQLMesh interval being computed, applied to every group's event time.
    """

    def bounded(event_time: str) -> t.Optional[Expr]:
        if interval is None:
            return None
        low, high = interval()
        return exp.Between(this=exp.Cast(this=col(event_time), to=exp.DataType.build("TIMESTAMP")), low=low, high=high)

    parts: t.List[exp.Query] = [
        select(
            *[col(k) for k in keys],
            alias(col(event_time), time_name),
            source=table(source),
            where=[not_null(col(c) for c in [*keys, event_time]), bounded(event_time)],
        )
        for _, source, event_time, _features in groups
    ]
    # a balanced UNION tree: depth log2(groups), so entities with hundreds of groups stay within Python's recursion
    while len(parts) > 1:
        paired = [exp.Union(this=a, expression=b, distinct=True) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = paired + ([parts[-1]] if len(parts) % 2 else [])
    query = select(*[col(k, "p") for k in keys], col(time_name, "p"), source=subquery(parts[0], "p"))
    for i, (name, source, event_time, features) in enumerate(groups):
        g = f"g{i}"
        rows = one_row_per_event(source, keys, event_time, features, bounded(event_time), name=f"r{i}")
        on = and_all([*[eq(col(k, "p"), col(k, g)) for k in keys], eq(col(time_name, "p"), col(event_time, g))])
        query.append("joins", exp.Join(this=subquery(rows, g), on=on, side="LEFT"))
        struct = exp.Struct(expressions=[exp.PropertyEQ(this=ident(f), expression=col(f, g)) for f in features])
        value = exp.Case(ifs=[exp.If(this=is_null(col(event_time, g)), true=exp.Null())], default=struct)
        query.append("expressions", alias(value, name))
    return query
