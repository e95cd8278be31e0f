"""Semantic layer on the sample project's data: every metric type and query feature against hand-written SQL, and
side by side with Seeknal 2.13's own `seeknal query` results where Seeknal answers correctly."""

from __future__ import annotations

import json
import textwrap

import duckdb
import pytest

from semantic_helpers import GOLDEN, SAMPLE_SEMANTIC, assert_rows_equal, rows, sample_connection, sql_rows
from seeknal_sqlmesh.semantic import QueryError, SemanticLayer

O = "transform.orders_enriched"
C = "transform.customer_lifetime"


@pytest.fixture(scope="module")
def con():
    return sample_connection()


@pytest.fixture(scope="module")
def sl(con):
    return SemanticLayer.load(SAMPLE_SEMANTIC, connection=con)


# MetricFlow-flavoured extras over the same tables: join_to_timespine, fill_nulls_with, windows, offset_to_grain
EXTRA = textwrap.dedent("""
    semantic_models:
      - name: order_facts
        model: ref('transform.orders_enriched')
        defaults: {agg_time_dimension: ordered_at}
        entities: [{name: order, type: primary, expr: order_id}, {name: buyer, type: foreign, expr: customer_id}]
        dimensions:
          - {name: ordered_at, type: time, expr: order_date, type_params: {time_granularity: day}}
          - {name: channel, type: categorical}
        measures:
          - {name: sales, agg: sum, expr: order_total}
          - {name: orders, agg: count, expr: "1"}
          - {name: buyers, agg: count_distinct, expr: customer_id}
      - name: buyers_dim
        model: ref('transform.customer_lifetime')
        entities: [{name: buyer, type: primary, expr: customer_id}]
        dimensions: [{name: segment, type: categorical}]
    metrics:
      - name: mobile_orders_filled
        type: simple
        type_params:
          measure: {name: orders, fill_nulls_with: 0, join_to_timespine: true}
        filter: "{{ Dimension('order__channel') }} = 'mobile_app'"
      - {name: sales_7d, type: cumulative, type_params: {measure: sales, cumulative_type_params: {window: 7 days}}}
      - {name: buyers_7d, type: cumulative, type_params: {measure: buyers, cumulative_type_params: {window: 7 days}}}
      - {name: sales_all_time, type: cumulative, type_params: {measure: sales}}
      - {name: sales_mtd_avg, type: cumulative, type_params: {measure: sales, cumulative_type_params: {grain_to_date: month, period_agg: average}}}
      - {name: sales_metric, type: simple, type_params: {measure: sales}}
      - name: sales_vs_month_start
        type: derived
        type_params:
          expr: sales_metric - start_sales
          metrics:
            - {name: sales_metric}
            - {name: sales_metric, alias: start_sales, offset_to_grain: month}
      - name: sales_wow
        type: derived
        type_params:
          expr: "sales_metric / NULLIF(last_week, 0)"
          metrics:
            - {name: sales_metric}
            - {name: sales_metric, alias: last_week, offset_window: 1 week}
""")


@pytest.fixture(scope="module")
def extra(con, tmp_path_factory):
    path = tmp_path_factory.mktemp("mf") / "extra.yml"
    path.write_text(EXTRA)
    return SemanticLayer.load([path], connection=con)


def test_every_aggregation_and_measure_filter(sl, con):
    got = sl.query(metrics=["revenue", "order_count", "unique_customers", "avg_order_value", "max_order_value", "min_order_value",
                            "completed_revenue", "discounted_orders", "total_margin", "aov", "revenue_per_customer"], group_by=["status"])
    assert list(got.columns) == ["status", "revenue", "order_count", "unique_customers", "avg_order_value", "max_order_value",
                                 "min_order_value", "completed_revenue", "discounted_orders", "total_margin", "aov", "revenue_per_customer"]
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT status, SUM(order_total), COUNT(*), COUNT(DISTINCT customer_id), AVG(order_total), MAX(order_total), MIN(order_total),
               SUM(CASE WHEN status IN ('shipped','delivered') THEN order_total END),
               COUNT(CASE WHEN discount_code IS NOT NULL AND status <> 'cancelled' THEN order_id END), SUM(gross_margin),
               SUM(order_total) / COUNT(*), SUM(order_total) / COUNT(DISTINCT customer_id)
        FROM {O} GROUP BY status"""))


def test_metric_filters_apply_to_their_metric_only(sl, con):
    # Seeknal 2.13 applies every simple metric's filter to the whole query (sample README #18); here each metric keeps its own
    got = sl.query(metrics=["discount_rate", "mobile_order_count", "delivered_revenue", "app_orders"], group_by=["channel"])
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT channel,
               COUNT(CASE WHEN discount_code IS NOT NULL AND status <> 'cancelled' THEN 1 END) / COUNT(*),
               NULLIF(COUNT(CASE WHEN channel = 'mobile_app' THEN 1 END), 0),
               SUM(CASE WHEN status = 'delivered' THEN order_total END),
               NULLIF(COUNT(CASE WHEN channel = 'mobile_app' THEN 1 END), 0)
        FROM {O} GROUP BY channel"""))


def test_cross_model_metrics_do_not_fan_out(sl, con):
    got = sl.query(metrics=["revenue", "customer_count", "total_lifetime_value"], group_by=["segment"])
    assert_rows_equal(got, sql_rows(con, f"""
        WITH r AS (SELECT c.segment, SUM(o.order_total) AS revenue FROM {O} o LEFT JOIN {C} c USING (customer_id) GROUP BY 1),
             k AS (SELECT segment, COUNT(DISTINCT customer_id) AS n, SUM(lifetime_revenue) AS ltv FROM {C} GROUP BY 1)
        SELECT COALESCE(r.segment, k.segment), r.revenue, k.n, k.ltv FROM r FULL OUTER JOIN k ON r.segment IS NOT DISTINCT FROM k.segment"""))


def test_bare_names_pick_the_nearest_model_and_prefixed_names_join(sl, con):
    local = sl.query(metrics=["revenue"], group_by=["country"])
    assert_rows_equal(local, sql_rows(con, f"SELECT country, SUM(order_total) FROM {O} GROUP BY 1"))
    joined = sl.query(metrics=["revenue"], group_by=["customer_id__country", "order_id__channel"])
    assert_rows_equal(joined, sql_rows(con, f"""
        SELECT c.country, o.channel, SUM(o.order_total) FROM {O} o LEFT JOIN {C} c USING (customer_id) GROUP BY 1, 2"""))


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
def test_metric_time_grains(sl, con, grain):
    got = sl.query(metrics=["revenue", "unique_customers"], group_by=[f"metric_time__{grain}"])
    assert list(got.columns) == [f"metric_time__{grain}", "revenue", "unique_customers"]
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT CAST(date_trunc('{grain}', order_date) AS DATE), SUM(order_total), COUNT(DISTINCT customer_id) FROM {O} GROUP BY 1"""))


def test_date_parts_and_dimension_grain_suffix(sl, con):
    got = sl.query(metrics=["order_count"], group_by=["metric_time__extract_dow", "order_date__month"])
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT isodow(order_date), CAST(date_trunc('month', order_date) AS DATE), COUNT(*) FROM {O} GROUP BY 1, 2"""))


def test_cumulative_grain_to_date_at_day_week_and_month(sl, con):
    day = sl.query(metrics=["cumulative_revenue"], group_by=["metric_time__day"])
    daily = f"""
        WITH days AS (SELECT CAST(d AS DATE) AS ds FROM generate_series(DATE '2024-01-01', DATE '2024-03-31', INTERVAL 1 DAY) t(d))
        SELECT ds, SUM(order_total) AS v FROM days JOIN {O} ON order_date <= ds AND order_date >= date_trunc('month', ds) GROUP BY ds"""
    assert_rows_equal(day, sql_rows(con, daily))
    month = sl.query(metrics=["cumulative_revenue", "revenue"], group_by=["metric_time__month"])
    assert_rows_equal(month, sql_rows(con, f"SELECT CAST(date_trunc('month', order_date) AS DATE), SUM(order_total), SUM(order_total) FROM {O} GROUP BY 1"))
    # weekly: the value on the last day of each week (Seeknal-flavoured cumulative metrics report the period's end)
    week = sl.query(metrics=["revenue_qtd"], group_by=["metric_time__week"])
    assert_rows_equal(week, sql_rows(con, f"""
        WITH days AS (SELECT CAST(d AS DATE) AS ds FROM generate_series(DATE '2024-01-01', DATE '2024-03-31', INTERVAL 1 DAY) t(d)),
             v AS (SELECT ds, SUM(CASE WHEN status IN ('shipped','delivered') THEN order_total END) AS v
                   FROM days JOIN {O} ON order_date <= ds AND order_date >= date_trunc('quarter', ds) GROUP BY ds)
        SELECT CAST(date_trunc('week', ds) AS DATE), arg_max(v, ds) FROM v GROUP BY 1"""))


def test_cumulative_by_the_agg_time_dimension_and_other_keys(sl, con):
    got = sl.query(metrics=["cumulative_revenue"], group_by=["order_date__month", "channel"])
    assert_rows_equal(got, sql_rows(con, f"SELECT CAST(date_trunc('month', order_date) AS DATE), channel, SUM(order_total) FROM {O} GROUP BY 1, 2"))


def test_cumulative_window_all_time_and_period_average(extra, con):
    days = "WITH days AS (SELECT CAST(d AS DATE) AS ds FROM generate_series(DATE '2024-01-01', DATE '2024-03-31', INTERVAL 1 DAY) t(d))"
    got = extra.query(metrics=["sales_7d", "buyers_7d", "sales_all_time"], group_by=["metric_time__day"])
    assert_rows_equal(got, sql_rows(con, f"""{days}
        SELECT ds, SUM(order_total) FILTER (WHERE order_date > ds - INTERVAL 7 DAY),
               COUNT(DISTINCT customer_id) FILTER (WHERE order_date > ds - INTERVAL 7 DAY), SUM(order_total)
        FROM days JOIN {O} ON order_date <= ds GROUP BY ds"""))
    avg = extra.query(metrics=["sales_mtd_avg"], group_by=["metric_time__month"])
    assert_rows_equal(avg, sql_rows(con, f"""{days},
        v AS (SELECT ds, SUM(order_total) AS v FROM days JOIN {O} ON order_date <= ds AND order_date >= date_trunc('month', ds) GROUP BY ds)
        SELECT CAST(date_trunc('month', ds) AS DATE), AVG(v) FROM v GROUP BY 1"""))
    # MetricFlow's default period_agg is `first`: the value on the first day of each week
    first = extra.query(metrics=["sales_7d"], group_by=["metric_time__week"])
    assert_rows_equal(first, sql_rows(con, f"""{days},
        v AS (SELECT ds, SUM(order_total) AS v FROM days JOIN {O} ON order_date <= ds AND order_date > ds - INTERVAL 7 DAY GROUP BY ds)
        SELECT CAST(date_trunc('week', ds) AS DATE), arg_min(v, ds) FROM v GROUP BY 1"""))


def test_derived_offset_month_over_month(sl, con):
    got = sl.query(metrics=["revenue_growth_mom"], group_by=["metric_time__month"])
    assert_rows_equal(got, sql_rows(con, f"""
        WITH m AS (SELECT CAST(date_trunc('month', order_date) AS DATE) AS m, SUM(order_total) AS r FROM {O} GROUP BY 1)
        SELECT m, r - LAG(r) OVER (ORDER BY m) FROM m"""))
    by_dim = sl.query(metrics=["revenue_growth_mom"], group_by=["order_date__month", "channel"])
    assert_rows_equal(by_dim, sql_rows(con, f"""
        WITH m AS (SELECT CAST(date_trunc('month', order_date) AS DATE) AS m, channel, SUM(order_total) AS r FROM {O} GROUP BY 1, 2),
             cur AS (SELECT m, channel, r FROM m),
             prev AS (SELECT CAST(m + INTERVAL 1 MONTH AS DATE) AS m, channel, r FROM m WHERE m + INTERVAL 1 MONTH <= DATE '2024-03-01')
        SELECT COALESCE(cur.m, prev.m), COALESCE(cur.channel, prev.channel), cur.r - prev.r
        FROM cur FULL OUTER JOIN prev ON cur.m = prev.m AND cur.channel IS NOT DISTINCT FROM prev.channel"""))
    with pytest.raises(QueryError, match="metric_time"):
        sl.query(metrics=["revenue_growth_mom"], group_by=["channel"])


def test_offset_window_and_offset_to_grain_at_day_grain(extra, con):
    got = extra.query(metrics=["sales_wow", "sales_vs_month_start"], group_by=["metric_time__day"])
    assert_rows_equal(got, sql_rows(con, f"""
        WITH d AS (SELECT order_date AS d, SUM(order_total) AS s FROM {O} GROUP BY 1),
             days AS (SELECT CAST(x AS DATE) AS d FROM generate_series(DATE '2024-01-01', DATE '2024-03-31', INTERVAL 1 DAY) t(x))
        -- a row wherever one of the three inputs has a value (MetricFlow combines inputs with a full outer join)
        SELECT days.d, a.s / NULLIF(w.s, 0), a.s - ms.s
        FROM days LEFT JOIN d a ON a.d = days.d LEFT JOIN d w ON w.d = days.d - 7 LEFT JOIN d ms ON ms.d = date_trunc('month', days.d)
        WHERE COALESCE(a.s, w.s, ms.s) IS NOT NULL"""))


def test_join_to_timespine_fills_empty_days(extra, con):
    got = extra.query(metrics=["mobile_orders_filled"], group_by=["metric_time__day"], time_constraint=("2024-02-01", "2024-02-29"))
    assert len(got) == 29
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT CAST(d AS DATE), COUNT(o.order_id)
        FROM generate_series(DATE '2024-02-01', DATE '2024-02-29', INTERVAL 1 DAY) t(d)
        LEFT JOIN {O} o ON o.order_date = CAST(d AS DATE) AND o.channel = 'mobile_app' GROUP BY 1"""))


def test_filters_plain_and_templates(sl, con):
    got = sl.query(metrics=["revenue"], group_by=["metric_time__month"],
                   where=["{{ Dimension('customer_id__segment') }} = 'smb'", "{{ TimeDimension('metric_time', 'month') }} >= '2024-02-01'",
                          "{{ Entity('customer_id') }} IS NOT NULL AND status <> 'cancelled'"])
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT CAST(date_trunc('month', o.order_date) AS DATE), SUM(o.order_total) FROM {O} o LEFT JOIN {C} c USING (customer_id)
        WHERE c.segment = 'smb' AND date_trunc('month', o.order_date) >= DATE '2024-02-01' AND o.customer_id IS NOT NULL
          AND o.status <> 'cancelled' GROUP BY 1"""))


def test_time_constraint_is_inclusive_and_widened_to_the_grain(sl, con):
    got = sl.query(metrics=["revenue"], group_by=["metric_time__month"], time_constraint=("2024-02-10", "2024-03-05"))
    assert_rows_equal(got, sql_rows(con, f"""
        SELECT CAST(date_trunc('month', order_date) AS DATE), SUM(order_total) FROM {O}
        WHERE order_date BETWEEN DATE '2024-02-01' AND DATE '2024-03-31' GROUP BY 1"""))
    # cumulative metrics keep earlier rows in their window: the constraint bounds the output periods only
    cum = sl.query(metrics=["cumulative_revenue"], group_by=["metric_time__day"], time_constraint=("2024-01-10", "2024-01-12"))
    assert_rows_equal(cum, sql_rows(con, f"""
        SELECT d, (SELECT SUM(order_total) FROM {O} WHERE order_date BETWEEN DATE '2024-01-01' AND d)
        FROM (VALUES (DATE '2024-01-10'), (DATE '2024-01-11'), (DATE '2024-01-12')) v(d)"""))


def test_order_by_and_limit(sl):
    got = sl.query(metrics=["revenue", "order_count"], group_by=["status"], order_by=["-revenue"], limit=2)
    assert list(got["status"]) == ["delivered", "cancelled"]
    asc = sl.query(metrics=["order_count"], group_by=["status"], order_by=["order_count", "status"])
    assert list(asc["order_count"]) == sorted(asc["order_count"])


def test_dimension_only_query(sl, con):
    got = sl.query(group_by=["status", "customer_id__segment"])
    assert_rows_equal(got, sql_rows(con, f"SELECT DISTINCT o.status, c.segment FROM {O} o LEFT JOIN {C} c USING (customer_id)"))


@pytest.mark.parametrize("query, message", [
    (dict(metrics=["revenu"]), "did you mean: revenue"),
    (dict(metrics=["revenue"], group_by=["custmer_id__segment"]), "did you mean: customer_id__segment"),
    (dict(metrics=["revenue"], group_by=["status__month"]), "not a time dimension"),
    (dict(metrics=["customer_count"], group_by=["order_id__status"]), "unknown dimension"),
    (dict(metrics=["revenue"], where=["status = 'x'; DROP TABLE transform.orders_enriched"]), "single expression"),
    (dict(metrics=["revenue"], where=["status IN (SELECT status FROM transform.orders_enriched)"]), "subquery"),
    (dict(metrics=["revenue"], where=["order_total + 1"]), "not a boolean"),
    (dict(metrics=["revenue"], where=["o.status = 'x'"]), "qualified"),
    (dict(metrics=["revenue"], where=["{{ Metric('revenue', group_by=['customer_id']) }} > 1"]), "metrics is not supported"),
    (dict(metrics=["revenue"], order_by=["-nope"]), "cannot order by"),
])
def test_bad_queries_say_why(sl, query, message):
    with pytest.raises(QueryError, match=message):
        sl.compile(**query)


# ---------------------------------------------------------------- Seeknal 2.13 side by side


def _golden(name):
    manifest = json.loads((GOLDEN / "manifest.json").read_text())["semantic_queries"][name]
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{GOLDEN / manifest['golden']}')").df()
    return manifest, frame


@pytest.mark.parametrize("name", ["orders_by_status", "orders_by_month", "customers_by_segment"])
def test_same_answers_as_seeknal_where_it_is_right(sl, name):
    manifest, frame = _golden(name)
    ours = sl.query(metrics=manifest["metrics"], group_by=manifest["dimensions"])
    assert_rows_equal(ours, frame)


@pytest.mark.parametrize("name, metric", [("cumulative_by_day", "cumulative_revenue"), ("quarter_to_date_by_day", "revenue_qtd")])
def test_cumulative_matches_seeknal_on_its_days(sl, name, metric):
    # Seeknal reports only the days that have orders; we report every day of the spine once the window has rows
    manifest, frame = _golden(name)
    ours = {r[0]: r[1] for r in rows(sl.query(metrics=[metric], group_by=["order_date"]))}
    theirs = rows(frame)
    assert len(ours) >= len(theirs)
    for day, value in theirs:
        assert ours[day] == pytest.approx(value)


def test_where_seeknal_is_wrong_we_differ(sl):
    # README #18: derived `offset` is ignored by Seeknal (growth = 0); we compute month over month
    _, frame = _golden("derived_offset_by_month")
    assert set(frame["revenue_growth_mom"]) == {0.0}
    ours = sl.query(metrics=["revenue_growth_mom"], group_by=["order_date__month"])
    assert ours["revenue_growth_mom"].notna().sum() == 2 and (ours["revenue_growth_mom"].fillna(0) != 0).any()
