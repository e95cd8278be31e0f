"""The SQL that differs from one engine to another, in one table keyed by dialect.

Everything else the renderer writes is one sqlglot tree that sqlglot prints in any dialect. What is here cannot be:
- `day_series`: one row per day between two dates (a time spine generated in SQL: each engine has its own
  set-returning function);
- `date_parts`: how a date part is extracted (ISO day of week, day of year and ISO week have engine-specific
  spellings);
- `interval`: how an interval's count is written.
Truncation to a grain (`DATE_TRUNC`, `CAST(... AS DATE)`) is the same sqlglot node everywhere; sqlglot writes each
engine's form of it.

Known: duckdb, postgres, starrocks. Any other dialect sqlglot knows gets the standard forms (EXTRACT, DATE_TRUNC,
INTERVAL '<n>' <unit>, as sqlglot prints them there) and no generated time spine: a query that needs one is refused
with a QueryError (a configured time spine table works in every dialect).
"""

from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from seeknal_sqlmesh.semantic.errors import QueryError
from seeknal_sqlmesh.sqlkit import Expr, alias, cast, col

DaySeries = t.Callable[[Expr, Expr], exp.Select]
DatePart = t.Callable[[Expr], Expr]


def _extract(unit: str) -> DatePart:
    return lambda e: exp.Extract(this=exp.var(unit), expression=e)


# EXTRACT(<part> FROM x): standard SQL for these parts
_STANDARD_PARTS: t.Mapping[str, DatePart] = {
    p: _extract(p.upper()) for p in ("year", "quarter", "month", "day", "hour")
}
# ISO week, ISO day of week (Monday = 1) and day of year as DuckDB and Postgres spell them in EXTRACT; also the
# generic form for dialects not in the table
_EXTRACT_PARTS: t.Mapping[str, DatePart] = {
    **_STANDARD_PARTS,
    "week": _extract("WEEK"),
    "dow": _extract("ISODOW"),
    "doy": _extract("DOY"),
}
# StarRocks: EXTRACT has no ISO day of week or day of year; WEEKOFYEAR is the ISO week (MySQL's WEEK(x, 3))
_STARROCKS_PARTS: t.Mapping[str, DatePart] = {
    **_STANDARD_PARTS,
    "week": lambda e: exp.WeekOfYear(this=e),
    "dow": lambda e: exp.DayOfWeekIso(this=e),
    "doy": lambda e: exp.DayOfYear(this=e),
}


def _string_count(count: int) -> Expr:
    return exp.Literal.string(str(count))


def _number_count(count: int) -> Expr:
    return exp.Literal.number(count)


def _day_interval(count: t.Callable[[int], Expr]) -> exp.Interval:
    return exp.Interval(this=count(1), unit=exp.var("DAY"))


def _duckdb_days(lo: Expr, hi: Expr) -> exp.Select:
    # SELECT CAST(UNNEST(GENERATE_SERIES(lo, hi, INTERVAL '1' DAY)) AS DATE) AS ds
    series = exp.GenerateSeries(
        start=cast(lo, "timestamp"), end=cast(hi, "timestamp"), step=_day_interval(_string_count)
    )
    return exp.select(alias(cast(exp.Unnest(expressions=[series]), "date"), "ds"))


def _postgres_days(lo: Expr, hi: Expr) -> exp.Select:
    # a set-returning function in the select list: SELECT CAST(GENERATE_SERIES(lo, hi, INTERVAL '1 DAY') AS DATE) AS ds
    series = exp.GenerateSeries(
        start=cast(lo, "timestamp"), end=cast(hi, "timestamp"), step=_day_interval(_string_count)
    )
    return exp.select(alias(cast(series, "date"), "ds"))


def _starrocks_days(lo: Expr, hi: Expr) -> exp.Select:
    # the table function counts days from the first one:
    # SELECT DAYS_ADD(lo, generate_series) AS ds FROM TABLE(generate_series(0, DATEDIFF(hi, lo)))
    offsets = exp.GenerateSeries(
        start=exp.Literal.number(0), end=exp.DateDiff(this=hi, expression=lo.copy(), unit=exp.var("DAY"))
    )
    day = exp.Anonymous(this="DAYS_ADD", expressions=[lo, col("generate_series", quoted=False)])
    source = exp.Table(this=exp.Anonymous(this="TABLE", expressions=[offsets]))
    return exp.select(alias(day, "ds")).from_(source, copy=False)


@dataclass(frozen=True)
class DialectSQL:
    """How one engine writes the dialect-specific pieces (see the module docstring)."""

    name: str
    date_parts: t.Mapping[str, DatePart]
    interval_count: t.Callable[[int], Expr]
    day_series: t.Optional[DaySeries] = None  # None: this engine's SQL cannot generate a time spine here

    def truncate(self, e: Expr, grain: str) -> Expr:
        """`e` at the start of its `grain` period: a DATE at day grain or coarser, a timestamp at hour grain."""
        if grain == "hour":
            return exp.TimestampTrunc(this=e, unit=exp.var("HOUR"))
        if grain == "day":
            return cast(e, "date")
        return cast(exp.DateTrunc(unit=exp.Literal.string(grain.upper()), this=e), "date")

    def extract(self, e: Expr, part: str) -> Expr:
        return self.date_parts[part](e)

    def time_key(self, e: Expr, grain: t.Optional[str], date_part: t.Optional[str]) -> Expr:
        """A time value as a group-by key: its date part when one is asked, else truncated to the grain."""
        return self.extract(e, date_part) if date_part else self.truncate(e, grain or "day")

    def interval(self, count: int, unit: str) -> exp.Interval:
        if unit == "quarter":
            count, unit = count * 3, "month"
        elif unit == "week":
            count, unit = count * 7, "day"
        return exp.Interval(this=self.interval_count(count), unit=exp.var(unit.upper()))

    def days(self, lo: Expr, hi: Expr) -> exp.Select:
        """One row per day from `lo` to `hi` (DATEs, both included), column `ds`."""
        if self.day_series is None:
            raise QueryError(
                f"this query needs a time spine, and seeknal cannot generate one in {self.name} SQL "
                f"(it can in {', '.join(sorted(KNOWN))})",
                "configure a time spine table (project_configuration.time_spines) or compile for one of those",
            )
        return self.day_series(lo, hi)


KNOWN: t.Mapping[str, DialectSQL] = {
    d.name: d
    for d in (
        DialectSQL("duckdb", _EXTRACT_PARTS, _string_count, _duckdb_days),
        DialectSQL("postgres", _EXTRACT_PARTS, _string_count, _postgres_days),
        DialectSQL("starrocks", _STARROCKS_PARTS, _number_count, _starrocks_days),
    )
}


@functools.lru_cache(maxsize=32)
def dialect_sql(name: t.Optional[str]) -> DialectSQL:
    """The table entry of `name`; the standard forms for any other dialect sqlglot knows; QueryError otherwise."""
    key = (name or "duckdb").lower()
    if key in KNOWN:
        return KNOWN[key]
    try:
        Dialect.get_or_raise(key)
    except ValueError:
        raise QueryError(
            f"unknown SQL dialect '{name}'", f"use one sqlglot knows, e.g. {', '.join(sorted(KNOWN))}"
        ) from None
    return DialectSQL(key, _EXTRACT_PARTS, _string_count)
