"""profile nodes: runtime statistics (real DuckDB) vs plain-Python oracles, and the generated SQLMesh Python model."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import json
import math
import statistics
import typing as t
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seeknal_sqlmesh.errors import Problems
from seeknal_sqlmesh.project.loader import load_project
from seeknal_sqlmesh.project.models import ProfileNode, Project, TransformNode
from seeknal_sqlmesh.runtime.profile import compute_profile
from seeknal_sqlmesh.translators import profile as profile_translator
from seeknal_sqlmesh.translators.base import TranslationContext

NOW = dt.datetime(2024, 1, 10, 0, 0, 0)


def as_dict(result: pd.DataFrame) -> t.Dict[t.Tuple[str, str], t.Tuple[t.Optional[str], t.Optional[str]]]:
    assert list(result.columns) == ["column_name", "metric", "value", "detail"]
    out = {}
    for row in result.itertuples(index=False):
        key = (row.column_name, row.metric)
        assert key not in out, f"duplicate metric {key}"
        out[key] = (row.value, row.detail)
    return out


def half_up(x: decimal.Decimal, places: int = 2) -> float:
    return float(x.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP))


def percent(part: int, whole: int) -> t.Optional[float]:
    """Seeknal's null_percent: part * 100.0 / whole, not rounded."""
    return None if whole == 0 else part * 100 / whole


def close(value: t.Optional[str], expected: t.Optional[float], rel: float = 1e-9) -> bool:
    if expected is None or value is None:
        return value is None and expected is None
    return math.isclose(float(value), float(expected), rel_tol=rel, abs_tol=1e-9)


def oracle_top_values(values: t.List[t.Any], limit: int, as_text=str) -> t.Optional[t.List[t.Dict[str, t.Any]]]:
    """Most frequent non-NULL values (ties by value); percent of the non-NULL values, rounded half up to 2 places."""
    present = [v for v in values if v is not None]
    counts = collections.Counter(present)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], as_text(kv[0])))[:limit]
    top = [{"value": as_text(v), "count": n, "percent": half_up(decimal.Decimal(100 * n) / len(present))} for v, n in ranked]
    return top or None


def top_values(metrics, column):
    value, detail = metrics[(column, "top_values")]
    assert value is None
    return None if detail is None else json.loads(detail)


def check_generic(metrics, column: str, values: t.List[t.Any]) -> None:
    nulls = sum(v is None for v in values)
    assert metrics[(column, "null_count")] == (str(nulls), None)
    assert close(metrics[(column, "null_percent")][0], percent(nulls, len(values)))
    assert metrics[(column, "distinct_count")] == (str(len({v for v in values if v is not None})), None)


def check_quantiles(metrics, column: str, values: t.List[float]) -> None:
    """approx_quantile is approximate: it must lie between the order statistics around q*n, in order."""
    data = sorted(v for v in values if v is not None)
    got = [metrics[(column, p)][0] for p in ("p25", "p50", "p75")]
    if not data:
        assert got == [None, None, None]
        return
    numbers = [float(g) for g in got]
    assert numbers == sorted(numbers)
    n = len(data)
    for q, value in zip((0.25, 0.5, 0.75), numbers):
        lo = data[max(0, math.floor(q * n) - 1)]
        hi = data[min(n - 1, math.ceil(q * n))]
        assert lo - 0.5 <= value <= hi + 0.5, (q, value, lo, hi, data)  # +-0.5: integer results are rounded


# ------------------------------------------------------------------------------------------------ runtime


def typed_relation(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    con.execute(
        """CREATE TABLE products (id INTEGER, price DECIMAL(10, 2), qty INTEGER, ratio DOUBLE, category VARCHAR,
                                 active BOOLEAN, launched DATE, updated TIMESTAMP, seen TIMESTAMPTZ, tags VARCHAR[])"""
    )
    con.execute(
        """INSERT INTO products VALUES
        (1, 1.50, 3, 0.5, 'toys', true, DATE '2024-01-01', TIMESTAMP '2024-01-08 12:00:00', TIMESTAMPTZ '2024-01-09 00:00:00+00', ['a']),
        (2, 2.25, NULL, NULL, 'toys', false, DATE '2024-01-05', NULL, NULL, NULL),
        (3, NULL, 7, 2.0, 'food', true, NULL, TIMESTAMP '2024-01-02 00:00:00', TIMESTAMPTZ '2024-01-09 06:00:00+02', ['b']),
        (4, 10.00, 1, -1.5, NULL, true, DATE '2024-01-03', TIMESTAMP '2024-01-09 18:00:00', NULL, NULL),
        (5, 4.75, 1, 3.25, 'books', NULL, DATE '2023-12-31', NULL, NULL, ['a'])"""
    )
    return con.table("products")


def test_profile_of_every_type_matches_oracle():
    con = duckdb.connect()
    result = compute_profile(typed_relation(con), [], 2, now=NOW)
    metrics = as_dict(result)

    # Seeknal's row order: the table row first, then each column in input order
    order = list(dict.fromkeys(result["column_name"]))
    assert order == ["_table_", "id", "price", "qty", "ratio", "category", "active", "launched", "updated", "seen", "tags"]
    assert metrics[("_table_", "row_count")] == ("5", None)

    price = [decimal.Decimal("1.50"), decimal.Decimal("2.25"), None, decimal.Decimal("10.00"), decimal.Decimal("4.75")]
    check_generic(metrics, "price", price)
    present = [p for p in price if p is not None]
    assert metrics[("price", "min")][0] == "1.50" and metrics[("price", "max")][0] == "10.00"
    assert metrics[("price", "sum")][0] == str(sum(present))  # DECIMAL sum keeps its scale: "18.50"
    assert close(metrics[("price", "avg")][0], float(sum(present) / len(present)))
    assert close(metrics[("price", "stddev")][0], statistics.stdev(float(p) for p in present))
    check_quantiles(metrics, "price", [float(p) for p in present])

    qty = [3, None, 7, 1, 1]
    check_generic(metrics, "qty", qty)
    assert [metrics[("qty", m)][0] for m in ("min", "max", "sum")] == ["1", "7", "12"]
    assert close(metrics[("qty", "avg")][0], 3.0)
    check_quantiles(metrics, "qty", qty)

    ratio = [0.5, None, 2.0, -1.5, 3.25]
    check_generic(metrics, "ratio", ratio)
    assert close(metrics[("ratio", "min")][0], -1.5) and close(metrics[("ratio", "sum")][0], 4.25)

    category = ["toys", "toys", "food", None, "books"]
    check_generic(metrics, "category", category)
    # Seeknal's exact text: DuckDB's rendering of a LIST of json_object, percent of the non-NULL values
    assert metrics[("category", "top_values")] == (None, '[{"value":"toys","count":2,"percent":50.0}, {"value":"books","count":1,"percent":25.0}]')
    assert top_values(metrics, "category") == oracle_top_values(category, 2)

    active = [True, False, True, True, None]
    check_generic(metrics, "active", active)
    assert top_values(metrics, "active") == oracle_top_values(active, 2, as_text=lambda b: "true" if b else "false")

    assert metrics[("launched", "min")][0] == "2023-12-31" and metrics[("launched", "max")][0] == "2024-01-05"
    assert close(metrics[("launched", "freshness_hours")][0], 5 * 24)
    assert metrics[("updated", "max")][0] == "2024-01-09 18:00:00"
    assert close(metrics[("updated", "freshness_hours")][0], 6.0)
    # the latest `seen` is 2024-01-09 04:00 UTC (06:00+02)
    assert close(metrics[("seen", "freshness_hours")][0], 20.0)

    # a list column only gets the generic metrics; numeric/temporal columns get no top_values
    assert sorted(m for c, m in metrics if c == "tags") == ["distinct_count", "null_count", "null_percent"]
    assert ("qty", "top_values") not in metrics and ("launched", "avg") not in metrics
    assert sorted(m for c, m in metrics if c == "qty") == sorted(
        ["null_count", "null_percent", "distinct_count", "min", "max", "avg", "sum", "stddev", "p25", "p50", "p75"]
    )
    assert result["detail"].notna().sum() == 2  # only top_values carry a detail


def test_null_percent_text_is_seeknals():
    frame = pd.DataFrame({"brand": [None] + ["x"] * 23})
    metrics = as_dict(compute_profile(frame, []))
    assert metrics[("brand", "null_percent")][0] == "4.166666666666667"  # as in Seeknal's products profile
    assert metrics[("brand", "top_values")][1] == '[{"value":"x","count":23,"percent":100.0}]'


def test_dataframe_with_declared_types_equals_relation():
    """After a pandas round trip DATE is a timestamp and DECIMAL a double: declared types restore Seeknal's values."""
    con = duckdb.connect()
    rel = typed_relation(con)
    declared = {name: str(kind) for name, kind in zip(rel.columns, rel.types)}
    frame = rel.df()
    columns = ["price", "launched", "category"]
    expected = compute_profile(rel, columns, 3, now=NOW)
    assert compute_profile(frame, columns, 3, column_types=declared, now=NOW).equals(expected)
    lossy = as_dict(compute_profile(frame, columns, 3, now=NOW))
    assert lossy[("launched", "min")][0] == "2023-12-31 00:00:00"  # what the declared types prevent
    assert as_dict(expected)[("launched", "min")][0] == "2023-12-31"


def test_column_selection_and_errors():
    frame = pd.DataFrame({"a": [1, 2], "B": ["x", None]})
    metrics = as_dict(compute_profile(frame, ["b"], now=NOW))  # DuckDB names are case-insensitive
    assert {c for c, _ in metrics} == {"_table_", "B"}
    with pytest.raises(ValueError, match="not found.*nope"):
        compute_profile(frame, ["a", "nope"])
    with pytest.raises(ValueError, match="max_top_values"):
        compute_profile(frame, [], 0)


def test_empty_input():
    frame = pd.DataFrame({"a": pd.Series([], dtype="int64"), "s": pd.Series([], dtype=object)})
    metrics = as_dict(compute_profile(frame, [], 5, column_types={"a": "BIGINT", "s": "VARCHAR"}))
    assert metrics[("_table_", "row_count")] == ("0", None)
    assert metrics[("a", "null_percent")] == (None, None)
    assert metrics[("a", "sum")] == (None, None)
    assert metrics[("s", "top_values")] == (None, None)


def test_freshness_uses_the_current_time():
    recent = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=3)
    metrics = as_dict(compute_profile(pd.DataFrame({"ts": [recent]}), []))
    assert abs(float(metrics[("ts", "freshness_hours")][0]) - 3.0) < 0.1


@settings(max_examples=60, deadline=None)
@given(
    numbers=st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=1, max_size=40),
    words=st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f"])), min_size=1, max_size=40),
    limit=st.integers(1, 7),
)
def test_profile_property(numbers, words, limit):
    rows = max(len(numbers), len(words))
    numbers = (numbers + [None] * rows)[:rows]
    words = (words + [None] * rows)[:rows]
    frame = pd.DataFrame({"n": pd.array(numbers, dtype="Int64"), "w": pd.array(words, dtype=object)})
    metrics = as_dict(compute_profile(frame, ["n", "w"], limit, column_types={"n": "BIGINT", "w": "VARCHAR"}))

    assert metrics[("_table_", "row_count")][0] == str(rows)
    check_generic(metrics, "n", numbers)
    check_generic(metrics, "w", words)
    present = [v for v in numbers if v is not None]
    if present:
        assert int(metrics[("n", "min")][0]) == min(present)
        assert int(metrics[("n", "max")][0]) == max(present)
        assert int(metrics[("n", "sum")][0]) == sum(present)
        assert close(metrics[("n", "avg")][0], sum(present) / len(present))
        assert close(metrics[("n", "stddev")][0], statistics.stdev(present) if len(present) > 1 else None)
    else:
        assert all(metrics[("n", m)][0] is None for m in ("min", "max", "sum", "avg", "stddev"))
    check_quantiles(metrics, "n", present)
    assert top_values(metrics, "w") == oracle_top_values(words, limit)


# ------------------------------------------------------------------------------------------------ translator


def make_ctx(node: ProfileNode) -> TranslationContext:
    root = Path(".").resolve()
    upstream = TransformNode.model_validate({"kind": "transform", "name": "products", "transform": "SELECT 1"})
    project = Project(root=root, name="t", nodes={upstream.id: upstream, node.id: node})
    return TranslationContext(project=project, problems=Problems(root), output_dir=root / "out")


def profile_node(**fields) -> ProfileNode:
    data = {"kind": "profile", "name": "products_price_stats", "inputs": [{"ref": "transform.products"}],
            "profile": {"columns": ["price", "category"], "params": {"max_top_values": 3}}}
    data.update(fields)
    return ProfileNode.model_validate(data)


def test_translation_is_a_python_model():
    node = profile_node(description="price stats")
    ctx = make_ctx(node)
    out = profile_translator.translate(node, ctx)
    assert not ctx.problems.items
    (spec,) = out.models
    assert spec.name == "profile.products_price_stats" and spec.query is None
    assert spec.columns == {"column_name": "VARCHAR", "metric": "VARCHAR", "value": "VARCHAR", "detail": "VARCHAR"}
    assert spec.depends_on == ["transform.products"]
    source = spec.python_source
    compile(source, "stats.py", "exec")
    assert "depends_on=['transform.products']" in source
    assert "context.resolve_table('transform.products')" in source
    assert "compute_profile(data, ['price', 'category'], 3, column_types=declared)" in source
    assert "description='price stats'" in source and "'seeknal:profile'" in source


@pytest.mark.parametrize(
    "fields, field_name",
    [
        ({"inputs": []}, "inputs"),
        ({"profile": {"params": {"max_top_values": 0}}}, "profile.params.max_top_values"),
        ({"profile": {"params": {"max_top_values": "many"}}}, "profile.params.max_top_values"),
    ],
)
def test_translation_errors(fields, field_name):
    node = profile_node(**fields)
    ctx = make_ctx(node)
    assert not profile_translator.translate(node, ctx).models
    assert [p.field for p in ctx.problems.items] == [field_name]


def test_defaults_and_warnings():
    node = profile_node(inputs=[{"ref": "transform.products"}, {"ref": "transform.other"}], profile={})
    ctx = make_ctx(node)
    (spec,) = profile_translator.translate(node, ctx).models
    assert "compute_profile(data, [], 5, column_types=declared)" in spec.python_source  # all columns, 5 top values
    assert [p.field for p in ctx.problems.warnings] == ["inputs"]


@pytest.mark.slow
def test_generated_model_runs_in_sqlmesh(tmp_path):
    """The generated file, loaded and run by SQLMesh on DuckDB, profiles the upstream model with its real types."""
    from sqlmesh import Context

    seeknal = tmp_path / "seeknal_project"
    (seeknal / "seeknal").mkdir(parents=True)
    (seeknal / "seeknal_project.yml").write_text("name: demo\n")
    (seeknal / "seeknal" / "products.yml").write_text("kind: transform\nname: products\ntransform: SELECT 1 AS x\n")
    (seeknal / "seeknal" / "stats.yml").write_text(
        "kind: profile\nname: products_price_stats\ninputs:\n  - ref: transform.products\n"
        "profile:\n  columns: [price, category, launched]\n  params:\n    max_top_values: 1\n"
    )
    project, problems = load_project(seeknal)
    out_dir = tmp_path / "out"
    ctx = TranslationContext(project=project, problems=problems, output_dir=out_dir)
    (spec,) = profile_translator.translate(project.nodes["profile.products_price_stats"], ctx).models
    assert not problems.items

    (out_dir / "models" / "profile").mkdir(parents=True)
    (out_dir / "models" / "transform").mkdir(parents=True)
    (out_dir / "models" / "profile" / "products_price_stats.py").write_text(spec.python_source)
    (out_dir / "models" / "transform" / "products.sql").write_text(
        "MODEL (name transform.products, kind FULL, dialect duckdb);\n"
        "SELECT * FROM (VALUES (1.50::DECIMAL(10, 2), 'toys', DATE '2024-01-01'), (2.25::DECIMAL(10, 2), 'toys', DATE '2024-01-03'),"
        " (NULL, 'food', NULL)) AS t(price, category, launched)\n"
    )
    (out_dir / "config.yaml").write_text(
        f"gateways:\n  duckdb:\n    connection: {{type: duckdb, database: '{out_dir / 'warehouse.duckdb'}'}}\n"
        "default_gateway: duckdb\nmodel_defaults: {dialect: duckdb, start: '2024-01-01'}\n"
    )
    context = Context(paths=str(out_dir))
    context.plan(auto_apply=True, no_prompts=True)
    metrics = as_dict(context.fetchdf("SELECT * FROM profile.products_price_stats"))
    context.close()

    assert metrics[("_table_", "row_count")][0] == "3"
    assert metrics[("price", "min")][0] == "1.50" and metrics[("price", "sum")][0] == "3.75"  # DECIMAL kept
    assert metrics[("price", "null_percent")][0] == "33.333333333333336"
    assert metrics[("launched", "max")][0] == "2024-01-03"  # DATE kept (pandas would make it a timestamp)
    assert metrics[("category", "top_values")][1] == '[{"value":"toys","count":2,"percent":66.67}]'
    assert float(metrics[("launched", "freshness_hours")][0]) > 0


# ------------------------------------------------------------------------------------- Seeknal 2.13 golden outputs

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden" / "seeknal-2.13"


@pytest.mark.skipif(not (GOLDEN / "manifest.json").is_file(), reason="no Seeknal golden outputs")
@pytest.mark.parametrize("node_id", ["profile.products_profile", "profile.orders_profile"])
def test_sample_project_matches_seeknal_golden(node_id):
    """compute_profile over the parquet file Seeknal profiled gives Seeknal's rows.

    Tolerated: freshness_hours (clock-dependent, NULL in the golden file), the last bits of float sums (the golden
    input parquet is sorted, so DuckDB adds the values in another order), and the order of tied top values
    (Seeknal's varies between runs).
    """
    project, _ = load_project(REPO / "sample_project")
    node = project.nodes[node_id]
    upstream = node.inputs[0]
    con = duckdb.connect()
    relation = con.sql(f"SELECT * FROM read_parquet('{GOLDEN / (upstream + '.parquet')}')")
    ours = as_dict(compute_profile(relation, node.profile.columns, node.profile.params.get("max_top_values", 5), now=NOW))
    theirs = {(c, m): (v, d) for c, m, v, d in con.execute(f"SELECT * FROM read_parquet('{GOLDEN / (node_id + '.parquet')}')").fetchall()}
    assert set(ours) == set(theirs)
    for key, (value, detail) in theirs.items():
        our_value, our_detail = ours[key]
        if key[1] == "freshness_hours":
            continue
        if key[1] == "top_values":
            assert our_value is None and value is None
            ranked = json.loads(our_detail)
            assert [e["count"] for e in ranked] == sorted((e["count"] for e in ranked), reverse=True)
            assert sorted(ranked, key=lambda e: e["value"]) == sorted(json.loads(detail), key=lambda e: e["value"])
            entries = [json.dumps(e, separators=(",", ":")) for e in ranked]
            assert our_detail == "[" + ", ".join(entries) + "]"
            assert all(entry in detail for entry in entries)  # each entry's text is Seeknal's text
            continue
        assert detail is None and our_detail is None
        if value == our_value:
            continue
        assert key[1] in ("sum", "avg", "stddev"), (key, our_value, value)
        assert math.isclose(float(our_value), float(value), rel_tol=1e-12), (key, our_value, value)
