"""Seeknal's run-time template values (`{{ today(-1) }}`, `{{ month_start }}`, `{{ env(VAR|default) }}`,
`{{ run_id }}`) as SQLMesh macros, evaluated when the model runs instead of when it is translated.

SQLMesh stores each macro with everything it references (as source, or as values that must print back as Python),
so macros use sqlglot and the standard library only."""

from __future__ import annotations

import os
import typing as t
from datetime import date, datetime, timedelta

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator


def _as_date(value: t.Union[date, datetime]) -> date:
    return value.date() if isinstance(value, datetime) else value


def run_date(evaluator: MacroEvaluator, bound: str = "end") -> date:
    """Seeknal's run date: the last day of the interval SQLMesh processes (see project/templating.py).

    Incremental models get the interval from SQLMesh (`start_date`/`end_date`); FULL models get only the execution
    time, so their run date is the day before it: the last complete day of the default daily schedule.
    """
    bounded = evaluator.locals.get(f"{bound}_date")
    if isinstance(bounded, date):
        return _as_date(bounded)
    executed = evaluator.locals.get("execution_date")
    if isinstance(executed, date):
        return _as_date(executed) - timedelta(days=1)
    return date.today() - timedelta(days=1)


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
def seeknal_date(
    evaluator: MacroEvaluator, unit: exp.Expr, offset: exp.Expr, bound: t.Optional[exp.Expr] = None
) -> exp.Literal:
    """'YYYY-MM-DD' of the run date shifted by `offset` days, or the first day of a shifted month/year.

    `bound`: 'end' (default) or 'start' of the processed interval.
    """
    day = run_date(evaluator, bound.name if bound is not None else "end")
    return exp.Literal.string(shift(day, unit.name, int(offset.to_py())).isoformat())


@macro()
def seeknal_env(evaluator: MacroEvaluator, name: exp.Expr, default: exp.Expr) -> exp.Literal:
    return exp.Literal.string(os.environ.get(name.name, default.name))


@macro()
def seeknal_run_id(evaluator: MacroEvaluator) -> exp.Literal:
    value = evaluator.locals.get("execution_date") or datetime.now()
    stamp = value.strftime("%Y%m%d_%H%M%S") if isinstance(value, datetime) else str(value)
    return exp.Literal.string(stamp)
