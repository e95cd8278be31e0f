"""Run-time template values: `{{ today(-n) }}`, `{{ month_start(n) }}`, ... rendered by SQLMesh at run time."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seeknal_sqlmesh.macros.runtime_values import shift
from seeknal_sqlmesh.translators import translate_project
from tests.helpers import orders_csv, write_project


def month_start_oracle(day: date, offset: int) -> date:
    current = day.replace(day=1)
    step = 1 if offset > 0 else -1
    for _ in range(abs(offset)):
        current = (current + timedelta(days=32)).replace(day=1) if step > 0 else (current - timedelta(days=1)).replace(day=1)
    return current


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.integers(-240, 240))
def test_month_start_matches_stepping_month_by_month(day, offset):
    assert shift(day, "month", offset) == month_start_oracle(day, offset)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.integers(-3000, 3000))
def test_day_and_year_shifts(day, offset):
    assert shift(day, "day", offset) == day + timedelta(days=offset)
    if 1 <= day.year + offset // 100 <= 9999:
        assert shift(day, "year", offset // 100) == date(day.year + offset // 100, 1, 1)


def test_templates_render_relative_to_the_processed_day(tmp_path):
    from sqlmesh import Context

    sql = (
        "SELECT '{{ today }}' AS today, '{{ yesterday }}' AS yesterday, '{{ today(-7) }}' AS week_ago, "
        "'{{ month_start(-1) }}' AS last_month, DATE '{{ year_start }}' AS this_year, "
        "'{{ env(SEEKNAL_TEST_REGION|EU) }}' AS region, 'as of {{ today }}!' AS label"
    )
    project = write_project(tmp_path / "p", {"t.yml": {"kind": "transform", "name": "dates", "transform": sql}},
                            files={"data/orders.csv": orders_csv()})
    out = tmp_path / "out"
    translate_project(project, out)
    model_sql = (out / "models/transform/dates.sql").read_text()
    assert "@seeknal_date('day', 0)" in model_sql and "@seeknal_date('month', -1)" in model_sql and "2024" not in model_sql
    context = Context(paths=str(out))
    rendered = context.render("transform.dates", start="2024-03-01", end="2024-03-15", execution_time="2024-03-16").sql("duckdb")
    for expected in ("'2024-03-15' AS \"today\"", "'2024-03-14' AS \"yesterday\"", "'2024-03-08' AS \"week_ago\"",
                     "'2024-02-01' AS \"last_month\"", "CAST('2024-01-01' AS DATE) AS \"this_year\"", "'EU' AS \"region\"",
                     "'as of 2024-03-15!' AS \"label\""):
        assert expected in rendered


def test_python_node_that_fails_on_its_sample_is_reported(tmp_path):
    from seeknal_sqlmesh.errors import ProjectError

    project = write_project(tmp_path / "p", {
        "orders.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"},
        "pipelines/bad.py": (
            "from seeknal.pipeline import transform\n\n"
            "@transform(name='bad', inputs=['source.orders'])\n"
            "def bad(ctx):\n"
            "    df = ctx.ref('source.orders')\n"
            "    return df['no_such_column']\n"
        ),
    }, files={"data/orders.csv": orders_csv()})
    with pytest.raises(ProjectError) as err:
        translate_project(project, tmp_path / "out")
    problem = err.value.problems[0]
    assert (problem.file, problem.node) == ("seeknal/pipelines/bad.py", "transform.bad")
    assert "KeyError" in problem.message and "no_such_column" in problem.message
