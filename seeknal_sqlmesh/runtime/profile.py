"""Seeknal `profile` statistics, computed at run time by the generated Python model of a `profile` node.

Output: Seeknal's long format, one row per (column, metric), every field VARCHAR (None = NULL):

| column_name | metric | value | detail |
|---|---|---|---|
| `_table_` | `row_count` | rows | |
| each column | `null_count`, `null_percent`, `distinct_count` | | |
| numeric columns | `min`, `max`, `avg`, `sum`, `stddev`, `p25`, `p50`, `p75` | | |
| date / timestamp columns | `min`, `max`, `freshness_hours` | | |
| string / boolean columns | `top_values` | NULL | JSON list `[{"value", "count", "percent"}]` |

Formats follow Seeknal 2.13's output (checked against its golden profile tables): values are DuckDB's
`CAST(x AS VARCHAR)` of the metric.
- `null_percent` = `null_count * 100.0 / row_count` as DOUBLE, not rounded ("4.166666666666667"; NULL for an empty
  table); `distinct_count` is exact `COUNT(DISTINCT col)`; `stddev` is the sample standard deviation.
- `p25/p50/p75` are DuckDB `approx_quantile` (t-digest: approximate, of the column's type for integers). DECIMAL
  columns are quantiled as DOUBLE, because DuckDB's approx_quantile on a DECIMAL returns a rounded BIGINT.
- `freshness_hours` = hours from the column's maximum to now, rounded to 2 decimals. **It depends on the time
  the model runs** (`now()`), so it changes between runs; naive timestamps and dates are taken as UTC.
- `top_values`: `detail` is DuckDB's text of a LIST of `json_object('value', <value as VARCHAR>, 'count', n,
  'percent', ROUND(n * 100.0 / <non-NULL count>, 2))`, e.g. `[{"value":"web","count":99,"percent":41.25}, ...]`,
  by descending count, at most `max_top_values` entries; NULL when the column has no non-NULL value. Ties are
  ordered by ascending value (Seeknal leaves their order, and so which tied values make the cut, to DuckDB's hash
  aggregation: it varies between runs).
- Other types (blob, list, struct, time, interval, ...) only get the three generic metrics.

All SQL runs in DuckDB on the given DataFrame (or DuckDB relation), built with sqlglot expressions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t

import duckdb
import pandas as pd
from sqlglot import exp

from seeknal_sqlmesh.sqlkit import alias, col, to_sql

OUTPUT_COLUMNS = {"column_name": "VARCHAR", "metric": "VARCHAR", "value": "VARCHAR", "detail": "VARCHAR"}
TABLE = "_table_"
INPUT = "__seeknal_profile_input"
RAW = "__seeknal_profile_raw"
DEFAULT_MAX_TOP_VALUES = 5

NUMERIC = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
}
TEMPORAL = {
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "TIMESTAMP WITH TIME ZONE",
    "DATETIME",
    "TIMESTAMPTZ",
}
CATEGORICAL = {"VARCHAR", "BOOLEAN"}


def column_category(duckdb_type: str) -> str:
    """'numeric', 'temporal', 'categorical' or 'other' for a DuckDB type name."""
    name = duckdb_type.upper()
    if name in NUMERIC or name.startswith("DECIMAL"):
        return "numeric"
    if name in TEMPORAL:
        return "temporal"
    if name in CATEGORICAL:
        return "categorical"
    return "other"


def _varchar(e: exp.Expr) -> exp.Expr:
    return exp.cast(e, exp.DataType.build("VARCHAR"))


def _double(e: exp.Expr) -> exp.Expr:
    return exp.cast(e, exp.DataType.build("DOUBLE"))


def _percent(part: exp.Expr, whole: exp.Expr) -> exp.Expr:
    """part * 100 / whole as DOUBLE (the same double as Seeknal's `part * 100.0 / whole`); NULL when whole is 0."""
    return exp.Div(
        this=exp.Mul(this=_double(part), expression=exp.Literal.number(100)),
        expression=exp.Nullif(this=whole, expression=exp.Literal.number(0)),
    )


def _now_expr(now: t.Optional[dt.datetime]) -> exp.Expr:
    if now is None:
        return exp.CurrentTimestamp()
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return exp.cast(exp.Literal.string(now.isoformat()), exp.DataType.build("TIMESTAMPTZ"))


def _epoch(e: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this="epoch", expressions=[e])


def _metric_expressions(
    column: str, category: str, duckdb_type: str, now: t.Optional[dt.datetime]
) -> t.List[t.Tuple[str, exp.Expr]]:
    c = col(column)
    rows = exp.Count(this=exp.Star())
    nulls = exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Count(this=c.copy()))
    metrics: t.List[t.Tuple[str, exp.Expr]] = [
        ("null_count", _varchar(nulls)),
        ("null_percent", _varchar(_percent(nulls.copy(), rows))),
        ("distinct_count", _varchar(exp.Count(this=exp.Distinct(expressions=[c.copy()])))),
    ]
    if category == "numeric":
        metrics += [
            ("min", _varchar(exp.Min(this=c.copy()))),
            ("max", _varchar(exp.Max(this=c.copy()))),
            ("avg", _varchar(exp.Avg(this=c.copy()))),
            ("sum", _varchar(exp.Sum(this=c.copy()))),
            ("stddev", _varchar(exp.Stddev(this=c.copy()))),
        ]
        # DuckDB's approx_quantile on a DECIMAL returns a BIGINT (1.69 -> 2): quantile DECIMALs as DOUBLE
        q_arg = _double(c.copy()) if duckdb_type.upper().startswith("DECIMAL") else c.copy()
        for label, q in (("p25", 0.25), ("p50", 0.5), ("p75", 0.75)):
            quantile = exp.Anonymous(this="approx_quantile", expressions=[q_arg.copy(), exp.Literal.number(q)])
            metrics.append((label, _varchar(quantile)))
    elif category == "temporal":
        latest: exp.Expr = exp.Max(this=c.copy())
        if duckdb_type.upper() == "DATE":
            latest = exp.cast(latest, exp.DataType.build("TIMESTAMP"))
        hours = exp.Div(
            this=exp.paren(exp.Sub(this=_epoch(_now_expr(now)), expression=_epoch(latest)), copy=False),
            expression=exp.Literal.number(3600),
        )
        metrics += [
            ("min", _varchar(exp.Min(this=c.copy()))),
            ("max", _varchar(exp.Max(this=c.copy()))),
            ("freshness_hours", _varchar(exp.Round(this=_double(hours), decimals=exp.Literal.number(2)))),
        ]
    return metrics


def _top_values_query(column: str, limit: int) -> exp.Select:
    """One row, one column: the `top_values` detail text (or NULL)."""
    c = col(column)
    non_null = exp.select(exp.Count(this=c.copy())).from_(exp.to_table(INPUT)).subquery()
    by_count = [exp.Ordered(this=exp.column("count"), desc=True), exp.Ordered(this=exp.column("value"))]
    ranked = (
        exp.select(
            exp.alias_(_varchar(c.copy()), "value"),
            exp.alias_(exp.Count(this=exp.Star()), "count"),
            exp.alias_(
                exp.Round(this=_percent(exp.Count(this=exp.Star()), non_null), decimals=exp.Literal.number(2)),
                "percent",
            ),
        )
        .from_(exp.to_table(INPUT))
        .where(exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())))
        .group_by(c.copy())
        .order_by(*[o.copy() for o in by_count])
        .limit(limit)
    )
    entry = exp.JSONObject(
        expressions=[
            exp.JSONKeyValue(this=exp.Literal.string(k), expression=exp.column(k))
            for k in ("value", "count", "percent")
        ]
    )
    listed = exp.ArrayAgg(this=exp.Order(this=entry, expressions=by_count))
    return exp.select(_varchar(listed)).from_(ranked.subquery("top"))


def _single_row(con: duckdb.DuckDBPyConnection, query: exp.Query) -> t.Tuple[t.Any, ...]:
    """The row of a query that returns exactly one (aggregates without GROUP BY, even over no rows)."""
    row = con.execute(to_sql(query)).fetchone()
    if row is None:
        raise RuntimeError(f"expected one row from {to_sql(query)}")
    return row


def _as_relation(con: duckdb.DuckDBPyConnection, data: t.Any) -> None:
    """Register `data` (DataFrame, DuckDB relation or Arrow table) in `con` as RAW (typed into INPUT later)."""
    if isinstance(data, duckdb.DuckDBPyRelation):
        data = data.to_arrow_table() if hasattr(data, "to_arrow_table") else data.arrow()
    con.register(RAW, data)


def compute_profile(
    data: t.Any,
    columns: t.Optional[t.Sequence[str]] = None,
    max_top_values: int = DEFAULT_MAX_TOP_VALUES,
    *,
    column_types: t.Optional[t.Mapping[str, str]] = None,
    now: t.Optional[dt.datetime] = None,
) -> pd.DataFrame:
    """Profile `data` (a pandas DataFrame or a DuckDB relation) in Seeknal's long format.

    `columns`: the columns to profile (all when empty). `column_types`: the upstream's declared types (DuckDB
    names); columns are cast back to them first, because a pandas round trip turns DATE into TIMESTAMP and
    DECIMAL into DOUBLE. `now`: fixed "now" for `freshness_hours` (tests); default: the current time.
    """
    if isinstance(max_top_values, bool) or not isinstance(max_top_values, int) or max_top_values < 1:
        raise ValueError(f"max_top_values must be a positive integer, got {max_top_values!r}")
    con = duckdb.connect()
    try:
        _as_relation(con, data)
        available = list(con.sql(to_sql(exp.select("*").from_(exp.to_table(RAW)).limit(0))).columns)
        wanted = list(dict.fromkeys(columns or available))
        lower = {c.lower(): c for c in available}
        missing = [c for c in wanted if c.lower() not in lower]
        if missing:
            raise ValueError(
                f"profile columns not found in the input: {', '.join(missing)} (available: {', '.join(available)})"
            )
        wanted = list(dict.fromkeys(lower[c.lower()] for c in wanted))

        projections = []
        declared = {k.lower(): v for k, v in (column_types or {}).items()}
        for name in available:
            declared_type = declared.get(name.lower())
            expr: exp.Expr = col(name)
            if declared_type:
                # a type sqlglot cannot read: profile the column as pandas delivered it
                with contextlib.suppress(Exception):
                    expr = exp.cast(expr, exp.DataType.build(declared_type, dialect="duckdb"))
            projections.append(alias(expr, name))
        prepare = exp.select(*projections).from_(exp.to_table(RAW))
        con.execute(to_sql(exp.Create(this=exp.to_table(INPUT), kind="VIEW", expression=prepare, replace=True)))
        described = con.sql(to_sql(exp.select("*").from_(exp.to_table(INPUT)).limit(0)))
        types = dict(zip(described.columns, (str(t_) for t_ in described.types), strict=True))

        plan: t.List[t.Tuple[str, str]] = [(TABLE, "row_count")]
        selects: t.List[exp.Expr] = [_varchar(exp.Count(this=exp.Star()))]
        categorical = []
        for name in wanted:
            category = column_category(types[name])
            for metric, expr in _metric_expressions(name, category, types[name], now):
                plan.append((name, metric))
                selects.append(expr)
            if category == "categorical":
                categorical.append(name)
        query = exp.select(*[exp.alias_(e, f"m{i}") for i, e in enumerate(selects)]).from_(exp.to_table(INPUT))
        values = _single_row(con, query)

        rows: t.List[t.Tuple[str, str, t.Optional[str], t.Optional[str]]] = []
        by_column: t.Dict[str, t.List[t.Tuple[str, str, t.Optional[str], t.Optional[str]]]] = {}
        for (name, metric), value in zip(plan, values, strict=True):
            by_column.setdefault(name, []).append((name, metric, value, None))
        for name in categorical:
            (detail,) = _single_row(con, _top_values_query(name, max_top_values))
            by_column[name].append((name, "top_values", None, detail))
        for name in [TABLE, *wanted]:
            rows.extend(by_column.get(name, []))
    finally:
        con.close()
    return pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), dtype=object)
