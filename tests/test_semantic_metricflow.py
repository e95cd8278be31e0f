"""Differential test against MetricFlow 0.213.0 itself: the sample project's semantic models written as a MetricFlow
manifest, queried through MetricFlow (a library in its own venv, driven by scripts/semantic_mf_oracle.py) and through
our layer, on the same DuckDB data; result rows must match (order-insensitive unless ordered, floats rel 1e-6).

The venv is made by scripts/metricflow-venv.sh (run here when missing); the test is skipped only when it cannot be
created (no package index reachable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from semantic_helpers import GOLDEN, ROOT, assert_rows_equal
from seeknal_sqlmesh.semantic import SemanticLayer

VENV = ROOT / ".venvs" / "metricflow"
PYTHON = VENV / "bin" / "python"

MANIFEST = textwrap.dedent("""
    project_configuration:
      time_spines:
        - node_relation: {schema_name: util, alias: time_spine}
          primary_column: {name: ds, time_granularity: day}
    ---
    semantic_model:
      name: orders
      node_relation: {schema_name: transform, alias: orders_enriched}
      defaults: {agg_time_dimension: order_date}
      entities:
        - {name: order, type: primary, expr: order_id}
        - {name: customer, type: foreign, expr: customer_id}
      dimensions:
        - {name: order_date, type: time, type_params: {time_granularity: day}}
        - {name: status, type: categorical}
        - {name: channel, type: categorical}
        - {name: country, type: categorical}
        - {name: is_first_order, type: categorical}
      measures:
        - {name: revenue, agg: sum, expr: order_total}
        - {name: order_count, agg: count, expr: order_id}
        - {name: unique_customers, agg: count_distinct, expr: customer_id}
        - {name: avg_order_value, agg: average, expr: order_total}
        - {name: max_order_value, agg: max, expr: order_total}
        - {name: first_orders, agg: sum_boolean, expr: is_first_order}
        - {name: completed_revenue, agg: sum, expr: "CASE WHEN status IN ('shipped', 'delivered') THEN order_total END"}
    ---
    semantic_model:
      name: customers
      node_relation: {schema_name: transform, alias: customer_lifetime}
      defaults: {agg_time_dimension: signup_date}
      entities: [{name: customer, type: primary, expr: customer_id}]
      dimensions:
        - {name: signup_date, type: time, type_params: {time_granularity: day}}
        - {name: segment, type: categorical}
        - {name: country, type: categorical}
      measures:
        - {name: customer_count, agg: count_distinct, expr: customer_id}
        - {name: total_lifetime_value, agg: sum, expr: lifetime_revenue}
    ---
    metric: {name: revenue, type: simple, type_params: {measure: revenue}}
    ---
    metric: {name: order_count, type: simple, type_params: {measure: order_count}}
    ---
    metric: {name: unique_customers, type: simple, type_params: {measure: unique_customers}}
    ---
    metric: {name: avg_order_value, type: simple, type_params: {measure: avg_order_value}}
    ---
    metric: {name: max_order_value, type: simple, type_params: {measure: max_order_value}}
    ---
    metric: {name: first_orders, type: simple, type_params: {measure: first_orders}}
    ---
    metric: {name: completed_revenue, type: simple, type_params: {measure: completed_revenue}}
    ---
    metric: {name: customer_count, type: simple, type_params: {measure: customer_count}}
    ---
    metric: {name: total_lifetime_value, type: simple, type_params: {measure: total_lifetime_value}}
    ---
    metric: {name: aov, type: ratio, type_params: {numerator: {name: revenue}, denominator: {name: order_count}}}
    ---
    metric:
      name: web_share
      type: ratio
      type_params:
        numerator: {name: order_count, filter: "{{ Dimension('order__channel') }} = 'web'", alias: web_orders}
        denominator: {name: order_count}
    ---
    metric:
      name: revenue_per_customer
      type: derived
      type_params: {expr: revenue / unique_customers, metrics: [{name: revenue}, {name: unique_customers}]}
    ---
    metric:
      name: revenue_growth_mom
      type: derived
      type_params:
        expr: revenue - prev
        metrics: [{name: revenue}, {name: revenue, alias: prev, offset_window: 1 month}]
    ---
    metric:
      name: revenue_wow_pct
      type: derived
      type_params:
        expr: (revenue - prev) / NULLIF(prev, 0)
        metrics: [{name: revenue}, {name: revenue, alias: prev, offset_window: 7 days}]
    ---
    metric:
      name: revenue_since_month_start
      type: derived
      type_params:
        expr: revenue - start_revenue
        metrics: [{name: revenue}, {name: revenue, alias: start_revenue, offset_to_grain: month}]
    ---
    metric: {name: revenue_mtd, type: cumulative, type_params: {measure: revenue, cumulative_type_params: {grain_to_date: month}}}
    ---
    metric: {name: revenue_7d, type: cumulative, type_params: {measure: revenue, cumulative_type_params: {window: 7 days}}}
    ---
    metric:
      name: customers_14d_last
      type: cumulative
      type_params: {measure: unique_customers, cumulative_type_params: {window: 14 days, period_agg: last}}
    ---
    metric:
      name: revenue_mtd_avg
      type: cumulative
      type_params: {measure: revenue, cumulative_type_params: {grain_to_date: month, period_agg: average}}
    ---
    metric:
      name: delivered_revenue
      type: simple
      type_params: {measure: revenue}
      filter: "{{ Dimension('order__status') }} = 'delivered'"
    ---
    metric:
      name: mobile_orders_filled
      type: simple
      type_params: {measure: {name: order_count, fill_nulls_with: 0, join_to_timespine: true}}
      filter: "{{ Dimension('order__channel') }} = 'mobile_app'"
    """)

JAN, Q1_END = "2024-01-01", "2024-03-31"
QUERIES = [
    dict(metrics=["revenue", "order_count", "unique_customers", "avg_order_value", "max_order_value", "first_orders", "completed_revenue"],
         group_by=["order__status"]),
    dict(metrics=["revenue", "order_count"], group_by=["metric_time__month", "order__channel"]),
    dict(metrics=["revenue", "customer_count", "total_lifetime_value"], group_by=["customer__segment"]),
    dict(metrics=["revenue"], group_by=["customer__country", "order__country"]),
    dict(metrics=["aov", "web_share", "revenue_per_customer"], group_by=["metric_time__week"]),
    dict(metrics=["delivered_revenue", "revenue"], group_by=["order__channel"]),
    dict(metrics=["revenue"], group_by=["metric_time__quarter"], where=["{{ Dimension('customer__segment') }} = 'smb'"]),
    dict(metrics=["order_count"], group_by=["metric_time__month"], where=["{{ TimeDimension('metric_time', 'month') }} >= '2024-02-01'"]),
    dict(metrics=["revenue", "order_count"], group_by=["order__status"], order_by=["-revenue"], limit=3),
    dict(metrics=["revenue_growth_mom"], group_by=["metric_time__month"], start=JAN, end=Q1_END),
    dict(metrics=["revenue_wow_pct", "revenue_since_month_start"], group_by=["metric_time__day"], start="2024-01-10", end="2024-03-20"),
    dict(metrics=["revenue_mtd", "revenue_7d"], group_by=["metric_time__day"], start="2024-01-03", end=Q1_END),
    dict(metrics=["revenue_mtd", "revenue_7d"], group_by=["metric_time__day", "order__channel"], start="2024-01-03", end="2024-02-15"),
    dict(metrics=["revenue_7d", "customers_14d_last", "revenue_mtd_avg"], group_by=["metric_time__week"], start="2024-01-08", end="2024-03-24"),
    dict(metrics=["revenue_mtd"], group_by=["metric_time__month"], start=JAN, end=Q1_END),
    dict(metrics=["mobile_orders_filled"], group_by=["metric_time__day"], start="2024-02-01", end="2024-02-29"),
    dict(metrics=["revenue", "customer_count"], group_by=["metric_time__month"], start="2024-02-10", end="2024-03-05"),
    dict(metrics=["unique_customers"], group_by=["metric_time__year", "customer__segment"]),
]


def _venv_ready() -> bool:
    if not PYTHON.exists():
        return False
    check = subprocess.run([str(PYTHON), "-c", "import metricflow, duckdb"], capture_output=True)
    return check.returncode == 0


@pytest.fixture(scope="module")
def oracle_python():
    if not _venv_ready():
        if os.environ.get("SEEKNAL_SKIP_METRICFLOW_VENV"):
            pytest.skip("MetricFlow venv missing and SEEKNAL_SKIP_METRICFLOW_VENV is set (create it: scripts/metricflow-venv.sh)")
        made = subprocess.run(["bash", str(ROOT / "scripts" / "metricflow-venv.sh")], capture_output=True, text=True, timeout=900)
        if made.returncode != 0 or not _venv_ready():
            pytest.skip(f"cannot create the MetricFlow venv with scripts/metricflow-venv.sh: {made.stderr.strip()[-500:]}")
    return PYTHON


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("mf")
    db = root / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE SCHEMA transform; CREATE SCHEMA util")
    for name in ("orders_enriched", "customer_lifetime"):
        con.execute(f"CREATE TABLE transform.{name} AS SELECT * FROM read_parquet('{GOLDEN / f'transform.{name}.parquet'}')")
    con.execute("CREATE TABLE util.time_spine AS SELECT CAST(d AS DATE) AS ds FROM generate_series(DATE '2023-06-01', DATE '2024-12-31', INTERVAL 1 DAY) t(d)")
    con.close()
    manifest_dir = root / "manifest"
    manifest_dir.mkdir()
    (manifest_dir / "sample.yaml").write_text(MANIFEST)
    return manifest_dir, db


def test_same_rows_as_metricflow(oracle_python, setup):
    manifest_dir, db = setup
    request = root_request = {"manifest_dir": str(manifest_dir), "database": str(db), "queries": QUERIES}
    req_file = manifest_dir.parent / "request.json"
    req_file.write_text(json.dumps(root_request))
    run = subprocess.run([str(oracle_python), str(ROOT / "scripts" / "semantic_mf_oracle.py"), str(req_file)],
                         capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stderr[-3000:]
    expected = json.loads(run.stdout)
    con = duckdb.connect(str(db), read_only=True)
    sl = SemanticLayer.load([manifest_dir], connection=con)
    assert len(expected) == len(request["queries"])
    for q, mf in zip(QUERIES, expected):
        assert "error" not in mf, f"MetricFlow failed on {q}: {mf.get('error')}"
        tc = (q.get("start"), q.get("end")) if q.get("start") or q.get("end") else None
        ours = sl.query(metrics=q["metrics"], group_by=q["group_by"], where=q.get("where"), order_by=q.get("order_by"),
                        limit=q.get("limit"), time_constraint=tc)
        # MetricFlow orders its columns group-bys first too; compare by name
        mf_rows = [dict(zip(mf["columns"], r)) for r in mf["rows"]]
        cols = list(ours.columns)
        assert sorted(cols) == sorted(mf["columns"]), (q, cols, mf["columns"])
        expect = [tuple(_as_date(r[c]) for c in cols) for r in mf_rows]
        try:
            assert_rows_equal(ours, expect)
        except AssertionError as e:
            raise AssertionError(f"query {q} differs from MetricFlow:\n{e}\nMetricFlow SQL:\n{mf['sql']}") from None
        if q.get("order_by"):
            assert [tuple(r) for r in ours[cols[:1]].itertuples(index=False)] == [(r[cols[0]],) for r in mf_rows]


def _as_date(v):
    import datetime as dt

    if isinstance(v, str) and len(v) >= 10 and v[4] == "-" and v[7] == "-":
        try:
            parsed = dt.datetime.fromisoformat(v)
            return parsed.date() if parsed.time() == dt.time(0) else parsed
        except ValueError:
            return v
    return v


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
