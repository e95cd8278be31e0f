"""Point-in-time retrieval: what to read (a plan) and the two SQL forms that compute it.

Specs (`spec.py`) name features; the registry resolves them to tables; this module turns tables + spine into a
`RetrievalPlan` and renders it:

- `asof_query`: DuckDB. The spine ASOF LEFT JOINs each feature group once (one pass per group), the group's
  rows deduplicated per (keys, event time) by the tie rule of `sql.py` first.
- `portable_query`: any engine with window functions (StarRocks has no ASOF join). Per group, the spine's rows and
  the group's rows are stacked and sorted once per entity key; a running count of group rows gives every spine row
  the group row just before it, which FIRST_VALUE reads. Same answers as the ASOF form (tests check both against a
  brute-force oracle).

For each spine row (keys, t) and group G: G's rows with the same keys and event time <= t are candidates; the
latest wins (ties: `sql.py`); with a TTL d it counts only if its event time >= t - d, else every feature is NULL.
Spine rows with a NULL key or time get NULLs. The result has the spine's rows in the spine's order, the spine's own
columns first, then the requested features.
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlglot import exp

from seeknal_sqlmesh.features import sql as q
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.sqlkit import Expr, alias, and_all, col, cte, subquery, table, to_sql

T = exp.DataType.Type
TEMPORAL = {
    T.DATE,
    T.DATETIME,
    T.TIMESTAMP,
    T.TIMESTAMPTZ,
    T.TIMESTAMPLTZ,
    T.TIMESTAMPNTZ,
    T.TIMESTAMP_S,
    T.TIMESTAMP_MS,
    T.TIMESTAMP_NS,
    T.DATETIME64,
}
ZONED = {T.TIMESTAMPTZ, T.TIMESTAMPLTZ}
TEXT = {T.VARCHAR, T.TEXT, T.CHAR, T.NVARCHAR, T.NCHAR}


@dataclass(frozen=True)
class GroupTable:
    """A feature group's rows as retrieval reads them: a table (or view) and its columns in table order."""

    name: str
    table: str
    join_keys: t.Tuple[str, ...]
    event_time: str
    columns: t.Dict[str, exp.DataType]

    @property
    def features(self) -> t.List[str]:
        """Every column but the keys and the event time, in table order (this order breaks ties)."""
        return [c for c in self.columns if c not in self.join_keys and c != self.event_time]


@dataclass
class Step:
    group: GroupTable
    outputs: t.List[t.Tuple[str, str]]  # (feature, output column)
    ttl: t.Optional[timedelta]
    time_type: exp.DataType  # the spine's time and the group's event time are compared in this type
    key_types: t.Dict[str, t.Optional[exp.DataType]]  # join key -> cast the spine column to this type (None: as is)
    before: t.Optional[datetime] = None  # only event times before this count (the snapshot's processed intervals)


@dataclass
class Spine:
    relation: str  # a table with the spine's columns and the row number column `sql.ROW`
    columns: t.Dict[str, exp.DataType]  # the spine's own columns, in order
    as_of: str


@dataclass
class RetrievalPlan:
    spine: Spine
    steps: t.List[Step] = field(default_factory=list)

    @property
    def output_columns(self) -> t.List[str]:
        return [*self.spine.columns, *(out for s in self.steps for _, out in s.outputs)]


@dataclass
class GroupRequest:
    group: GroupTable
    features: t.List[str]
    ttl: t.Optional[timedelta] = None
    before: t.Optional[datetime] = None


def comparison_type(spine_type: exp.DataType, event_type: exp.DataType) -> exp.DataType:
    """The type a spine time and an event time are compared in: their own when equal, else a timestamp."""
    if spine_type.this in TEXT:  # a CSV spine read without type inference
        spine_type = exp.DataType.build("TIMESTAMP")
    if spine_type == event_type:
        return spine_type
    if spine_type.this in ZONED or event_type.this in ZONED:
        return exp.DataType.build("TIMESTAMPTZ")
    return exp.DataType.build("TIMESTAMP")


def build_plan(spine: Spine, requests: t.Sequence[GroupRequest], full_feature_names: bool = False) -> RetrievalPlan:
    """Check the spine against every requested group and name the output columns."""
    problems: t.List[str] = []
    if spine.as_of not in spine.columns:
        problems.append(f"the spine has no column '{spine.as_of}' (spine columns: {', '.join(spine.columns)})")
    elif spine.columns[spine.as_of].this not in TEMPORAL | TEXT:
        problems.append(
            f"the spine's time column '{spine.as_of}' is {to_sql(spine.columns[spine.as_of])}, not a date or timestamp"
        )
    reserved = [c for c in spine.columns if c.startswith("__seeknal_")]
    if reserved:
        problems.append(f"spine columns may not start with '__seeknal_': {', '.join(reserved)}")
    plan = RetrievalPlan(spine)
    taken: t.Dict[str, str] = dict.fromkeys(spine.columns, "the spine")
    for request in requests:
        group = request.group
        missing = [k for k in group.join_keys if k not in spine.columns]
        if missing:
            problems.append(
                f"the spine has no column {', '.join(repr(k) for k in missing)} (join key of feature group "
                f"'{group.name}'); spine columns: {', '.join(spine.columns)}"
            )
            continue
        outputs = []
        for feature in request.features:
            out = f"{group.name}__{feature}" if full_feature_names else feature
            if out in taken:
                problems.append(
                    f"output column '{out}' of {group.name}.{feature} clashes with {taken[out]}"
                    + ("" if full_feature_names else "; ask for full feature names (<group>__<feature>)")
                )
            taken[out] = f"{group.name}.{feature}"
            outputs.append((feature, out))
        spine_time = spine.columns.get(spine.as_of, exp.DataType.build("TIMESTAMP"))
        key_types = {k: None if spine.columns[k] == group.columns[k] else group.columns[k] for k in group.join_keys}
        plan.steps.append(
            Step(
                group,
                outputs,
                request.ttl,
                comparison_type(spine_time, group.columns[group.event_time]),
                key_types,
                request.before,
            )
        )
    if problems:
        raise FeatureStoreError("cannot build the training set:\n" + "\n".join(f"  - {p}" for p in problems))
    return plan


# ---- rendering ---------------------------------------------------------------------------------------------------
# Every helper returns fresh nodes: trees are assembled without copies (see sql.py).


def _spine_time(plan: RetrievalPlan, step: Step, table: t.Optional[str]) -> Expr:
    return q.cast(col(plan.spine.as_of, table), step.time_type)


def _spine_key(step: Step, key: str, table: t.Optional[str]) -> Expr:
    to = step.key_types[key]
    return col(key, table) if to is None else exp.TryCast(this=col(key, table), to=to.copy())


def _event(step: Step) -> Expr:
    return q.cast(col(step.group.event_time), step.time_type)


def _group_rows_filter(plan: RetrievalPlan, step: Step) -> t.Optional[Expr]:
    """Keys and event time present; and no row that no spine row can use: after the last spine time, or (with a
    TTL) expired already for the first spine time; for replays, only rows of the snapshot's recorded intervals."""
    g = step.group
    spine = plan.spine.relation
    last = q.select(exp.Max(this=_spine_time(plan, step, None)), source=table(spine))
    conditions: t.List[t.Optional[Expr]] = [
        q.not_null(col(c) for c in [*g.join_keys, g.event_time]),
        exp.LTE(this=_event(step), expression=exp.Subquery(this=last)),
    ]
    if step.ttl is not None:
        first = q.select(exp.Min(this=_spine_time(plan, step, None)), source=table(spine))
        conditions.append(exp.GTE(this=_event(step), expression=q.minus_seconds(exp.Subquery(this=first), step.ttl)))
    if step.before is not None:
        conditions.append(
            exp.LT(this=col(g.event_time), expression=q.time_literal(step.before, g.columns[g.event_time]))
        )
    return and_all(conditions)


def _value(step: Step, value: Expr, event: t.Callable[[], Expr], spine_time: t.Callable[[], Expr]) -> Expr:
    """A feature value, NULL when the row it comes from is older than the TTL."""
    if step.ttl is None:
        return value
    fresh = exp.GTE(this=event(), expression=q.minus_seconds(spine_time(), step.ttl))
    return exp.Case(ifs=[exp.If(this=fresh, true=value)], default=exp.Null())


def asof_query(plan: RetrievalPlan) -> exp.Select:
    """DuckDB: the spine ASOF LEFT JOIN each group (deduplicated per keys and event time)."""
    helpers: t.List[Expr] = []
    for i, step in enumerate(plan.steps):
        helpers.append(alias(_spine_time(plan, step, "s"), f"__seeknal_t{i}"))
        helpers += [
            alias(_spine_key(step, k, "s"), f"__seeknal_k{i}_{j}")
            for j, k in enumerate(step.group.join_keys)
            if step.key_types[k] is not None
        ]
    spine = q.select(
        *[col(c, "s") for c in plan.spine.columns],
        col(q.ROW, "s"),
        *helpers,
        source=table(plan.spine.relation, "s"),
    )
    query = q.select(*[col(c, "sp") for c in plan.spine.columns], source=subquery(spine, "sp"))
    for i, step in enumerate(plan.steps):
        g, name = step.group, f"g{i}"
        rows = q.select(
            *[col(k) for k in g.join_keys],
            alias(_event(step), q.EVENT),
            *[col(f) for f in dict.fromkeys(f for f, _ in step.outputs)],
            source=table(g.table),
            where=[_group_rows_filter(plan, step)],
        )
        # one row per (keys, event time): DESC with DuckDB's NULLS LAST default is the tie rule's "NULL lowest"
        order = [exp.Ordered(this=col(f), desc=True, nulls_first=False) for f in g.features]
        rank = q.over(exp.RowNumber(), [col(c) for c in [*g.join_keys, g.event_time]], order)
        rows.set("qualify", exp.Qualify(this=q.eq(rank, q.number(1))))
        keys = [
            q.eq(col(f"__seeknal_k{i}_{j}" if step.key_types[k] is not None else k, "sp"), col(k, name))
            for j, k in enumerate(g.join_keys)
        ]
        on = and_all([*keys, exp.GTE(this=col(f"__seeknal_t{i}", "sp"), expression=col(q.EVENT, name))])
        query.append("joins", exp.Join(this=subquery(rows, name), on=on, side="LEFT", method="ASOF"))
        for feature, out in step.outputs:
            event = functools.partial(col, q.EVENT, name)
            value = _value(step, col(feature, name), event, functools.partial(col, f"__seeknal_t{i}", "sp"))
            query.append("expressions", alias(value, out))
    query.set("order", exp.Order(expressions=[exp.Ordered(this=col(q.ROW, "sp"))]))
    return query


def _typed_null(ty: exp.DataType) -> Expr:
    return exp.Cast(this=exp.Null(), to=ty.copy())


def _carried(column: str, keys: t.Sequence[str], nulls_first: bool) -> Expr:
    """The value of `column` in the group row that starts the current run (portable form)."""
    return q.over(
        exp.FirstValue(this=col(column)),
        [*[col(k) for k in keys], col("__seeknal_run")],
        [exp.Ordered(this=col("__seeknal_kind"), nulls_first=nulls_first)],
    )


def portable_query(plan: RetrievalPlan, dialect: str = "duckdb") -> exp.Select:
    """Engines without ASOF: per group, stack spine and group rows, then carry the latest group row forward.

    Built for `dialect`: the ORDER BY keys state the engine's own NULL placement (`sql.natural_nulls_first`).
    """
    nulls_first = q.natural_nulls_first(dialect)
    final = q.select(*[col(c, "s") for c in plan.spine.columns], source=table(plan.spine.relation, "s"))
    ctes: t.List[exp.CTE] = []
    for i, step in enumerate(plan.steps):
        g = step.group
        keys = [f"__seeknal_k{j}" for j in range(len(g.join_keys))]
        features = g.features
        slots = {f: f"__seeknal_f{j}" for j, f in enumerate(features)}

        spine_rows = q.select(
            *[alias(_spine_key(step, k, None), kk) for k, kk in zip(g.join_keys, keys, strict=True)],
            alias(_spine_time(plan, step, None), "__seeknal_t"),
            alias(q.number(1), "__seeknal_kind"),
            alias(col(q.ROW), q.ROW),
            alias(_typed_null(step.time_type), q.EVENT),
            *[alias(_typed_null(g.columns[f]), slot) for f, slot in slots.items()],
            source=table(plan.spine.relation),
            where=[q.not_null([*[_spine_key(step, k, None) for k in g.join_keys], col(plan.spine.as_of)])],
        )
        group_rows = q.select(
            *[alias(col(k), kk) for k, kk in zip(g.join_keys, keys, strict=True)],
            alias(_event(step), "__seeknal_t"),
            alias(q.number(0), "__seeknal_kind"),
            alias(_typed_null(exp.DataType.build("BIGINT")), q.ROW),
            alias(_event(step), q.EVENT),
            *[alias(col(f), slot) for f, slot in slots.items()],
            source=table(g.table),
            where=[_group_rows_filter(plan, step)],
        )
        stacked = exp.Union(this=spine_rows, expression=group_rows, distinct=False)

        # a running count of group rows puts every spine row in the run that starts at the group row just before it
        order = [
            exp.Ordered(this=col("__seeknal_t"), nulls_first=nulls_first),
            exp.Ordered(this=col("__seeknal_kind"), nulls_first=nulls_first),
            *q.tie_order(list(slots.values()), desc=False, nulls_first=nulls_first),
        ]
        count = q.over(
            exp.Sum(this=exp.Sub(this=q.number(1), expression=col("__seeknal_kind"))),
            [col(k) for k in keys],
            order,
            running=True,
        )
        runs = q.select(exp.Star(), alias(count, "__seeknal_run"), source=subquery(stacked, "stacked"))
        event = functools.partial(_carried, q.EVENT, keys, nulls_first)
        spine_time = functools.partial(col, "__seeknal_t")
        picked = q.select(
            col(q.ROW),
            col("__seeknal_kind"),
            *[
                alias(_value(step, _carried(slots[f], keys, nulls_first), event, spine_time), out)
                for f, out in step.outputs
            ],
            source=subquery(runs, "runs"),
        )
        name = f"__seeknal_g{i}"
        body = q.select(exp.Star(), source=subquery(picked, "picked"), where=[q.eq(col("__seeknal_kind"), q.number(1))])
        ctes.append(cte(body, name))
        final.append(
            "joins",
            exp.Join(this=table(name, f"g{i}"), on=q.eq(col(q.ROW, "s"), col(q.ROW, f"g{i}")), side="LEFT"),
        )
        for _, out in step.outputs:
            final.append("expressions", col(out, f"g{i}"))
    if ctes:
        final.set("with_", exp.With(expressions=ctes))
    final.set("order", exp.Order(expressions=[exp.Ordered(this=col(q.ROW, "s"))]))
    return final


def render_plan(plan: RetrievalPlan, form: str, dialect: str = "duckdb") -> str:
    if form == "asof":
        if dialect != "duckdb":
            raise FeatureStoreError(f"the ASOF form runs on DuckDB only; use the portable form on {dialect}")
        return to_sql(asof_query(plan), "duckdb")
    if form == "portable":
        return to_sql(portable_query(plan, dialect), dialect)
    raise FeatureStoreError(f"unknown SQL form '{form}': use 'asof' or 'portable'")
