"""Seeknal's run-time template values (`{{ today(-1) }}`, `{{ month_start }}`, `{{ env(VAR|default) }}`,
`{{ run_id }}`) as SQLMesh macros, evaluated when the model runs instead of when it is translated."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from sqlglot import exp
from sqlmesh import macro


def _run_date(evaluator) -> date:
    """Seeknal's run date: the last day of the interval SQLMesh processes (see project/templating.py)."""
    value = evaluator.locals.get("end_date") or evaluator.locals.get("execution_date")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.today()


def shift(day: date, unit: str, offset: int) -> date:
    if unit == "day":
        return day + timedelta(days=offset)
    if unit == "month":
        month_index = day.year * 12 + day.month - 1 + offset
        return date(month_index // 12, month_index % 12 + 1, 1)
    if unit == "year":
        return date(day.year + offset, 1, 1)
    raise ValueError(f"unknown date unit {unit!r}")


@macro()
def seeknal_date(evaluator, unit: exp.Expr, offset: exp.Expr) -> exp.Literal:
    """'YYYY-MM-DD' of the run date shifted by `offset` days, or the first day of a shifted month/year."""
    return exp.Literal.string(shift(_run_date(evaluator), unit.name, int(offset.name)).isoformat())


@macro()
def seeknal_env(evaluator, name: exp.Expr, default: exp.Expr) -> exp.Literal:
    return exp.Literal.string(os.environ.get(name.name, default.name))


@macro()
def seeknal_run_id(evaluator) -> exp.Literal:
    value = evaluator.locals.get("execution_date") or datetime.now()
    stamp = value.strftime("%Y%m%d_%H%M%S") if isinstance(value, datetime) else str(value)
    return exp.Literal.string(stamp)
