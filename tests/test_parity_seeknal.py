"""Differential test against Seeknal 2.13: every translated node produces the rows `seeknal run` produced.

Goldens come from scripts/seeknal-golden.sh (Seeknal 2.13.0 in its own venv, `--date 2024-03-31`). Rows are
compared order-insensitively with column names and DuckDB types; columns Seeknal computes from the clock are
listed per node in the golden manifest (`volatile_columns`). Intended deviations are listed in DEVIATIONS.md and
in `DEVIATIONS` below; nothing else may differ.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "seeknal-2.13"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
RUN_DATE = MANIFEST["run_date"]
# `seeknal run --date D` processes day D; the SQLMesh run that processes day D executes on D + 1 (see DEVIATIONS.md)
# (late in the day, so daily crons with an hour offset, like `0 3 * * *`, have processed day D too).
EXECUTION_TIME = f"{(date.fromisoformat(RUN_DATE) + timedelta(days=1)).isoformat()} 23:59:59"

# node id -> why its output differs from Seeknal 2.13 on purpose (see DEVIATIONS.md)
DEVIATIONS: dict[str, str] = {}

# (our DuckDB type, Seeknal's type) -> how our value is converted for comparison. Seeknal round-trips every node
# output through pandas and parquet, which changes types but not values (DEVIATIONS.md, "Types"). Any other type
# difference fails the test.
TYPE_DEVIATIONS = {
    ("HUGEINT", "DOUBLE"): "CAST({col} AS DOUBLE)",  # parquet has no 128-bit integer: integer SUMs become DOUBLE
    ("BIGINT", "DOUBLE"): "CAST({col} AS DOUBLE)",  # ... and come back as floats from Seeknal's CSV/JSON exports
    ("DATE", "TIMESTAMP"): "CAST({col} AS TIMESTAMP)",  # pandas has no date type: DATE columns become TIMESTAMP
    ("DATE", "BIGINT"): "epoch_ms(CAST({col} AS TIMESTAMP))",  # Seeknal's JSON export writes dates as epoch ms
    ("DOUBLE", "VARCHAR"): ("{col}", "CAST({col} AS DOUBLE)"),  # ... and decimals as strings
}

COMPARED_KINDS = ("source", "transform", "feature_group", "aggregation", "second_order_aggregation", "profile")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample project translated and planned into prod, as of Seeknal's run date."""
    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
    from sqlmesh import Context

    from seeknal_sqlmesh.translators import translate_project

    work = tmp_path_factory.mktemp("parity")
    project = Path(shutil.copytree(ROOT / "sample_project", work / "sample_project", ignore=shutil.ignore_patterns("target")))
    out = work / "out"
    translate_project(project, out)
    context = Context(paths=str(out))
    context.plan("prod", no_prompts=True, auto_apply=True, execution_time=EXECUTION_TIME)
    yield context, project
    context.close()


def golden_nodes(kinds=COMPARED_KINDS):
    return sorted(n for n, e in MANIFEST["nodes"].items() if e.get("status") == "success" and e["kind"] in kinds and e.get("golden"))


def _normalise(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _normalise(v)) for k, v in value.items()))
    return value


def rows_of(con: duckdb.DuckDBPyConnection, relation_sql: str, expressions: list[str]) -> list[tuple]:
    select = ", ".join(expressions)
    return sorted((tuple(_normalise(v) for v in row) for row in con.execute(f"SELECT {select} FROM {relation_sql}").fetchall()), key=repr)


def compare(actual: duckdb.DuckDBPyConnection, actual_sql: str, golden_file: Path, entry: dict, normalise_sql=None) -> None:
    golden = duckdb.connect()
    golden_sql = f"read_parquet('{golden_file}')"
    expected_cols = [(c["name"], c["type"]) for c in entry["columns"]]
    desc = actual.execute(f"DESCRIBE SELECT * FROM {actual_sql}").fetchall()
    actual_types = {name: type_ for name, type_, *_ in desc}
    assert [name for name, *_ in desc] == [name for name, _ in expected_cols]
    volatile = set(entry.get("volatile_columns") or [])
    ours, theirs, names = [], [], []
    for name, golden_type in expected_cols:
        if name in volatile:
            continue
        col = f'"{name}"'
        our_type = actual_types[name]
        ours_expr, theirs_expr = "{col}", "{col}"
        if our_type != golden_type:
            assert (our_type, golden_type) in TYPE_DEVIATIONS, f"column {name}: {our_type} here, {golden_type} in Seeknal"
            conversion = TYPE_DEVIATIONS[(our_type, golden_type)]
            ours_expr, theirs_expr = conversion if isinstance(conversion, tuple) else (conversion, "{col}")
        ours.append(ours_expr.format(col=col))
        theirs.append(theirs_expr.format(col=col))
        names.append(name)
    if normalise_sql:
        ours, theirs = normalise_sql(ours, names), normalise_sql(theirs, names)
    assert rows_of(actual, actual_sql, ours) == rows_of(golden, golden_sql, theirs)


def sorted_top_values(expressions: list[str], names: list[str]) -> list[str]:
    """Profiles: Seeknal lists tied top values in no fixed order; we sort ties by value (DEVIATIONS.md)."""
    out = []
    for expression, name in zip(expressions, names):
        if name == "detail":
            expression = (f"CASE WHEN metric = 'top_values' THEN "
                          f"CAST(list_sort(CAST(json({expression}) AS JSON[]), 'ASC') AS VARCHAR) ELSE {expression} END")
        out.append(expression)
    return out


@pytest.mark.parametrize("node_id", golden_nodes())
def test_node_output_matches_seeknal(built, node_id):
    if node_id in DEVIATIONS:
        pytest.skip(DEVIATIONS[node_id])
    context, _ = built
    entry = MANIFEST["nodes"][node_id]
    normalise = sorted_top_values if entry["kind"] == "profile" else None
    compare(context.engine_adapter.connection, node_id, GOLDEN / entry["golden"], entry, normalise)


@pytest.mark.parametrize("node_id", golden_nodes(("exposure",)))
def test_file_exposure_matches_seeknal(built, node_id):
    _, project = built
    entry = MANIFEST["nodes"][node_id]
    path = project / entry["exposure"]["path"]
    assert path.is_file(), f"{path} was not exported after the plan"
    reader = {"csv": "read_csv_auto", "parquet": "read_parquet", "json": "read_json_auto", "jsonl": "read_json_auto"}[entry["exposure"]["format"]]
    compare(duckdb.connect(), f"{reader}('{path}')", GOLDEN / entry["golden"], entry)
