"""`aggregation` nodes (first-order, time-series features) -> one SQL model named `aggregation.<name>`.

Seeknal 2.13 generates one GROUP BY query (shared/reference/seeknal.md §3.4); we build the same query with
sqlglot expression builders:

    SELECT "<id_col>", "<application_date_col>", "<group_by>"...,
           COUNT("<column>") AS "<name>_count", SUM(...) AS "<name>_sum", AVG(...) AS "<name>_avg",      -- basic
           COUNT(CASE WHEN <condition> THEN 1 END) AS "<name>_count_if",                              -- since
           SUM(CASE WHEN <condition> THEN "<column>" ELSE 0 END) AS "<name>_sum_if"
    FROM <data source>
    GROUP BY "<id_col>", "<application_date_col>", "<group_by>"...
    ORDER BY "<id_col>", "<application_date_col>", "<group_by>"...

`basic` maps count, sum, avg|mean -> AVG, min, max, stddev|std -> STDDEV (sample standard deviation). Output names
are `<feature name>_<canonical agg>`: `mean` is named `avg` and `std` `stddev` (as in Seeknal's output: `basic:
[sum, count, mean, max]` gives `spend_sum, spend_count, spend_avg, spend_max`); `column` defaults to the feature
name. Rolling/ratio names use the same canonical agg names. `feature_date_col` is required but,
as in Seeknal, not used by the SQL. Output names that repeat are renamed the way DuckDB renames the duplicate
columns of Seeknal's result (`x`, `x_1`, `x_2`, ...; see `duckdb_dedupe`), so column sets match exactly.

Types: every SUM (basic, since, rolling) is CAST to DOUBLE, the type Seeknal's output has (see `persisted_type`);
other columns keep DuckDB's types. Deviation: Seeknal reads its input through pandas, so DATE key/group_by columns
come out as TIMESTAMP there; we keep the upstream types (a cast would break VARCHAR or other keys).

Data source: `source:` (a `<kind>.<name>` that must be a node of the project), else the first of `inputs`.
Without either Seeknal silently reads the most recently modified transform parquet; we refuse with an error.

Rolling and ratio (our definition; Seeknal 2.13 crashes on them)
----------------------------------------------------------------
Seeknal puts `SUM("col") OVER (PARTITION BY "<id_col>" ORDER BY <date> RANGE BETWEEN INTERVAL n DAY PRECEDING AND
CURRENT ROW)` inside the GROUP BY query, which DuckDB rejects ("column must appear in the GROUP BY clause"). We keep
its column naming and its window frame and give the expressions the meaning they would have if DuckDB evaluated
them over the source rows:

- Let a *group* be one output row: (id, application date d, group_by values). For `rolling: [{window: [n], aggs}]`
  the value of `<name>_<agg>_<n>d` on that row is `<agg>` of the non-NULL `column` values of **all source rows with
  the same id whose application date lies in [d - n days, d]**, both ends inclusive (n + 1 calendar days, the
  frame Seeknal writes; n = 0 is the current day only). The window is partitioned by `id_col` only, exactly as
  Seeknal partitions it: `group_by` columns do not split the window, so rows of one (id, day) that differ only
  in `group_by` share the same rolling value. Rows whose application date is NULL only see each other.
- Supported rolling aggs: sum, count, avg|mean, min, max. sum/min/max are NULL when the window holds no non-NULL
  value, count is then 0, avg is sum / count over the window's source rows (not the mean of daily means). Others
  (stddev) are rejected: they are not decomposable over the daily rows.
- `ratio: [{numerator: [n1...], denominator: [n2...], aggs}]` -> for every agg, n1 and n2 (cartesian product, in
  that nesting order) `<name>_<agg>_ratio_<n1>d_<n2>d` = CAST(rolling n1 AS DOUBLE) / NULLIF(CAST(rolling n2 AS
  DOUBLE), 0): NULL when the denominator is 0 or NULL.
- Computation: the grouped daily rows are built first (one row per id, application date, group_by, carrying the
  basic/since columns plus per-day SUM/COUNT/MIN/MAX helpers), then the windows run over that grouped result
  with `RANGE BETWEEN INTERVAL n DAY PRECEDING AND CURRENT ROW` ordered by `application_date_col` (the only date
  left after grouping); per-day partial aggregates are combined (sum of sums, sum of counts, min of mins, ...),
  which equals the aggregate over the raw rows of the window.

Column order: features in YAML order; within a feature basic, rolling (per window, then per agg), ratio, since.

Column-name case: SQLMesh lowercases every identifier of a `duckdb` model, quoted ones included, so
`"Spend_sum"` would become `spend_sum` in the table. When an output name has upper-case letters the model's
dialect is `duckdb,normalization_strategy=case_sensitive` (see `kinds.preserve_column_case`), which keeps Seeknal's
names exactly (DuckDB itself still resolves names case-insensitively).
"""

from __future__ import annotations

import re
import typing as t

import sqlglot
from sqlglot import exp

from seeknal_sqlmesh.project.models import AggregationNode, Node
from seeknal_sqlmesh.sqlkit import alias, col
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.kinds import sql_model

# Seeknal's agg name -> SQL aggregate (first-order `basic`).
BASIC_AGGS = {
    "count": "COUNT",
    "sum": "SUM",
    "avg": "AVG",
    "mean": "AVG",
    "min": "MIN",
    "max": "MAX",
    "stddev": "STDDEV",
    "std": "STDDEV",
}
# Seeknal's agg name -> the name used in output columns
CANONICAL = {
    "count": "count",
    "sum": "sum",
    "avg": "avg",
    "mean": "avg",
    "min": "min",
    "max": "max",
    "stddev": "stddev",
    "std": "stddev",
}
ROLLING_AGGS = {"count", "sum", "avg", "mean", "min", "max"}
SINCE_AGGS = {"count", "sum"}
DAILY = "__seeknal_daily"


def agg_call(name: str, arg: exp.Expr) -> exp.Expr:
    """`name(arg)` as a typed sqlglot aggregate when sqlglot knows it (COUNT, SUM, STDDEV, MEDIAN...)."""
    return exp.func(name, arg, dialect="duckdb")


def duckdb_dedupe(names: t.Sequence[str]) -> t.List[str]:
    """The names DuckDB gives the columns of a result whose select list repeats names.

    DuckDB compares names case-insensitively; the first occurrence keeps its name, a repeat of `x` becomes `x_<k>`
    with k = the number of earlier occurrences of `x`, increased until the name is free (`x, x, X, x_1` ->
    `x, x_1, X_2, x_1_1`). Seeknal returns DuckDB's result, so this is the column set users see there.
    """
    used: t.Dict[str, int] = {}  # lower-cased name -> next suffix to try
    out = []
    for name in names:
        low = name.lower()
        if low not in used:
            used[low] = 1
            out.append(name)
            continue
        k = used[low]
        candidate = f"{name}_{k}"
        while candidate.lower() in used:
            k += 1
            candidate = f"{name}_{k}"
        used[low] = k + 1
        used[candidate.lower()] = 1
        out.append(candidate)
    return out


def parse_condition(node: Node, text: t.Any, ctx: TranslationContext, field_name: str) -> t.Optional[exp.Expr]:
    """A `since` condition (a SQL boolean expression; Seeknal's `==` is read as `=`)."""
    if not isinstance(text, str) or not text.strip():
        ctx.error(node, field_name, "needs a 'condition' (a SQL boolean expression such as \"amount >= 20\")")
        return None
    try:
        parsed = sqlglot.parse_one(text, read=ctx.dialect_of(node))
    except sqlglot.errors.ParseError as e:
        ctx.error(node, field_name, f"cannot parse condition {text!r}: {str(e).splitlines()[0]}")
        return None
    if isinstance(parsed, (exp.Query, exp.Command, exp.DDL, exp.DML)) or parsed is None:
        ctx.error(node, field_name, f"condition {text!r} is not a boolean expression")
        return None
    return parsed


def int_list(
    node: Node,
    value: t.Any,
    ctx: TranslationContext,
    field_name: str,
    *,
    length: t.Optional[int] = None,
    negative: bool = False,
) -> t.Optional[t.List[int]]:
    """Days given as an int or a list of ints (non-negative unless `negative`)."""
    items = value if isinstance(value, list) else [value]
    days = []
    for item in items:
        if isinstance(item, bool) or (
            not isinstance(item, int) and not (isinstance(item, str) and re.fullmatch(r"\s*-?\d+\s*", item))
        ):
            ctx.error(node, field_name, f"expected whole numbers of days, got {value!r}")
            return None
        number = int(item)
        if number < 0 and not negative:
            ctx.error(node, field_name, f"days must not be negative, got {value!r}")
            return None
        days.append(number)
    if not days or (length is not None and len(days) != length):
        want = "[lower, upper]" if length == 2 else "a non-empty list of days"
        ctx.error(node, field_name, f"expected {want}, got {value!r}")
        return None
    return days


def agg_list(
    node: Node, value: t.Any, ctx: TranslationContext, field_name: str, allowed: t.Optional[t.Set[str]] = None
) -> t.Optional[t.List[str]]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(a, str) and a.strip() for a in items):
        ctx.error(node, field_name, f"expected a non-empty list of aggregation names, got {value!r}")
        return None
    out = []
    for agg in items:
        if allowed is not None and agg.lower() not in allowed:
            ctx.error(
                node, field_name, f"unsupported aggregation '{agg}'", f"expected one of: {', '.join(sorted(allowed))}"
            )
            return None
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", agg):
            ctx.error(node, field_name, f"'{agg}' is not an aggregate function name")
            return None
        out.append(agg)
    return out


def warn_if_not_input(node: Node, source_id: str, ctx: TranslationContext) -> None:
    if node.inputs and source_id not in node.inputs:
        ctx.warn(
            node,
            "source",
            f"'{source_id}' is not listed in inputs: Seeknal does not order it before this node (SQLMesh does, from the query)",
            f"add '- ref: {source_id}' to inputs",
        )


def data_source(node: AggregationNode, ctx: TranslationContext) -> t.Optional[str]:
    if node.source:
        if node.source not in ctx.project.nodes:
            same = sorted(n for n in ctx.project.nodes if n.split(".", 1)[-1] == node.source.split(".", 1)[-1])
            hint = (
                f"did you mean {', '.join(same)}?"
                if same
                else "write the source as <kind>.<name> of a node of this project"
            )
            ctx.error(node, "source", f"unknown source node '{node.source}'", hint)
            return None
        warn_if_not_input(node, node.source, ctx)
        return node.source
    if node.inputs:
        return node.inputs[0]
    ctx.error(
        node,
        "source",
        "no data source: set 'source: <kind>.<name>' or list the upstream in inputs",
        "Seeknal 2.13 would silently read the most recently written transform output",
    )
    return None


class _Daily:
    """Per-day helper aggregates over the source rows, shared by rolling/ratio expressions."""

    def __init__(self) -> None:
        self.columns: t.Dict[t.Tuple[str, str], str] = {}

    def ref(self, column: str, stat: str) -> exp.Column:
        key = (column, stat)
        if key not in self.columns:
            self.columns[key] = f"__seeknal_day_{len(self.columns)}_{stat}"
        return col(self.columns[key])

    def expressions(self) -> t.List[exp.Expr]:
        return [alias(agg_call(stat, col(column)), name) for (column, stat), name in self.columns.items()]


def _window(agg: exp.Expr, id_col: str, date_col: str, days: int) -> exp.Window:
    return exp.Window(
        this=agg,
        partition_by=[col(id_col)],
        order=exp.Order(expressions=[exp.Ordered(this=col(date_col))]),
        spec=exp.WindowSpec(
            kind="RANGE",
            start=exp.Interval(this=exp.Literal.string(str(days)), unit=exp.var("DAY")),
            start_side="PRECEDING",
            end="CURRENT ROW",
        ),
    )


def _rolling(daily: _Daily, column: str, agg: str, days: int, id_col: str, date_col: str) -> exp.Expr:
    agg = agg.lower()
    w = lambda stat_expr: _window(stat_expr, id_col, date_col, days)  # noqa: E731
    if agg == "sum":
        return persisted_type("sum", w(exp.Sum(this=daily.ref(column, "sum"))))
    if agg == "count":
        return exp.cast(w(exp.Sum(this=daily.ref(column, "count"))), exp.DataType.build("BIGINT"))
    if agg == "min":
        return w(exp.Min(this=daily.ref(column, "min")))
    if agg == "max":
        return w(exp.Max(this=daily.ref(column, "max")))
    # avg / mean: total over the window divided by the number of non-NULL values in it
    total = exp.cast(w(exp.Sum(this=daily.ref(column, "sum"))), exp.DataType.build("DOUBLE"))
    count = w(exp.Sum(this=daily.ref(column, "count")))
    return exp.Div(this=total, expression=exp.Nullif(this=count, expression=exp.Literal.number(0)))


def persisted_type(agg_name: str, expression: exp.Expr) -> exp.Expr:
    """SUM results as DOUBLE: the type Seeknal's output has.

    SUM over integers is a HUGEINT in DuckDB; Seeknal writes every result to parquet, which stores HUGEINT as DOUBLE,
    and its first-order input comes through pandas (DECIMAL -> DOUBLE), so its sums are DOUBLE. Values are the same.
    """
    if agg_name.lower() == "sum":
        return exp.cast(expression, exp.DataType.build("DOUBLE"))
    return expression


def safe_ratio(numerator: exp.Expr, denominator: exp.Expr) -> exp.Expr:
    double = exp.DataType.build("DOUBLE")
    return exp.Div(
        this=exp.cast(numerator, double),
        expression=exp.Nullif(this=exp.cast(denominator, double), expression=exp.Literal.number(0)),
    )


def build_query(node: AggregationNode, source: exp.Table, ctx: TranslationContext) -> t.Optional[exp.Query]:
    keys = [node.id_col, node.application_date_col, *node.group_by]
    # (output name, grouped expression or None, window expression or None)
    columns: t.List[t.Tuple[str, t.Optional[exp.Expr], t.Optional[exp.Expr]]] = []
    daily = _Daily()
    errors_before = len(ctx.problems.items)
    for i, feature in enumerate(node.features):
        where = f"features[{i}]"
        column = feature.column or feature.name
        value = col(column)
        basic = agg_list(node, feature.basic, ctx, f"{where}.basic", set(BASIC_AGGS)) if feature.basic else []
        for agg in basic or []:
            expr: exp.Expr = persisted_type(agg, agg_call(BASIC_AGGS[agg.lower()], value.copy()))
            columns.append((f"{feature.name}_{CANONICAL[agg.lower()]}", expr, None))
        for j, rolling in enumerate(feature.rolling):
            field_name = f"{where}.rolling[{j}]"
            windows = int_list(node, rolling.get("window"), ctx, f"{field_name}.window")
            aggs = agg_list(node, rolling.get("aggs"), ctx, f"{field_name}.aggs", ROLLING_AGGS)
            if windows is None or aggs is None:
                continue
            for days in windows:
                for agg in aggs:
                    expr = _rolling(daily, column, agg, days, node.id_col, node.application_date_col)
                    columns.append((f"{feature.name}_{CANONICAL[agg.lower()]}_{days}d", None, expr))
        for j, ratio in enumerate(feature.ratio):
            field_name = f"{where}.ratio[{j}]"
            numerators = int_list(node, ratio.get("numerator"), ctx, f"{field_name}.numerator")
            denominators = int_list(node, ratio.get("denominator"), ctx, f"{field_name}.denominator")
            aggs = agg_list(node, ratio.get("aggs"), ctx, f"{field_name}.aggs", ROLLING_AGGS)
            if numerators is None or denominators is None or aggs is None:
                continue
            for agg in aggs:
                for n1 in numerators:
                    for n2 in denominators:
                        num = _rolling(daily, column, agg, n1, node.id_col, node.application_date_col)
                        den = _rolling(daily, column, agg, n2, node.id_col, node.application_date_col)
                        columns.append(
                            (f"{feature.name}_{CANONICAL[agg.lower()]}_ratio_{n1}d_{n2}d", None, safe_ratio(num, den))
                        )
        for j, since in enumerate(feature.since):
            field_name = f"{where}.since[{j}]"
            condition = parse_condition(node, since.get("condition"), ctx, f"{field_name}.condition")
            aggs = agg_list(node, since.get("aggs"), ctx, f"{field_name}.aggs", SINCE_AGGS)
            if condition is None or aggs is None:
                continue
            for agg in aggs:
                if agg.lower() == "count":
                    expr = exp.Count(this=exp.case().when(condition.copy(), exp.Literal.number(1)))
                else:
                    expr = persisted_type(
                        "sum",
                        exp.Sum(this=exp.case().when(condition.copy(), value.copy()).else_(exp.Literal.number(0))),
                    )
                columns.append((f"{feature.name}_{CANONICAL[agg.lower()]}_if", expr, None))
    if len(ctx.problems.items) > errors_before:
        return None

    names = duckdb_dedupe([*keys, *(name for name, _, _ in columns)])[len(keys) :]
    key_cols = [col(k) for k in keys]
    grouped = [alias(expr, name) for name, (_, expr, _) in zip(names, columns, strict=True) if expr is not None]

    if not daily.columns:
        select = exp.select(*key_cols, *grouped).from_(source).group_by(*[col(k) for k in keys])
        return select.order_by(*[col(k) for k in keys])

    inner = exp.select(*key_cols, *grouped, *daily.expressions()).from_(source).group_by(*[col(k) for k in keys])
    outer_columns: t.List[exp.Expr] = [col(k) for k in keys]
    for name, (_, _, window) in zip(names, columns, strict=True):
        # grouped columns are computed in the daily rows already; windows run over them here
        outer_columns.append(col(name) if window is None else alias(window, name))
    query = exp.select(*outer_columns).from_(exp.to_table(DAILY)).with_(DAILY, as_=inner)
    return query.order_by(*[col(k) for k in keys])


def translate_generated(
    node: Node, ctx: TranslationContext, find_source: t.Callable, build: t.Callable, grains: t.Sequence[str]
) -> NodeTranslation:
    """Both aggregation kinds: find the data source, generate the SQL with `build`, make it a model."""
    out = NodeTranslation()
    source_id = find_source(node, ctx)
    if source_id is None:
        return out
    query = build(node, ctx.table_of(source_id), ctx)
    if query is None:
        return out
    out.models.append(sql_model(node, ctx, query, grains=grains))
    out.metadata = {"data_source": source_id}
    return out


def translate(node: AggregationNode, ctx: TranslationContext) -> NodeTranslation:
    return translate_generated(
        node, ctx, data_source, build_query, [node.id_col, node.application_date_col, *node.group_by]
    )
