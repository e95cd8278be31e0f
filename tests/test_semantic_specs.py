"""Specs and resolution: both YAML flavours into one model, multi-document files, and definition errors reported
all at once with file, object and field."""

from __future__ import annotations

import textwrap

import pytest

from semantic_helpers import SAMPLE_SEMANTIC
from seeknal_sqlmesh.semantic import SemanticDefinitionError, SemanticLayer
from seeknal_sqlmesh.semantic.filters import FilterError, parse_filter, template_name
from seeknal_sqlmesh.semantic.resolve import ResolvedManifest
from seeknal_sqlmesh.semantic.specs import load_manifest, parse_window


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load_errors(path) -> str:
    with pytest.raises(SemanticDefinitionError) as err:
        SemanticLayer.load(path)
    return str(err.value)


ORDERS = """
    kind: semantic_model
    name: orders
    model: "ref('transform.orders')"
    default_time_dimension: order_date
    entities: [{name: order_id, type: primary}, {name: customer_id, type: foreign}]
    dimensions:
      - {name: order_date, type: time, time_granularity: day}
      - {name: status, type: categorical}
    measures:
      - {name: revenue, expr: amount, agg: sum}
      - {name: order_count, expr: "1", agg: count}
    """


def test_sample_project_loads_with_multi_document_metrics():
    manifest, problems = load_manifest([SAMPLE_SEMANTIC])
    assert problems == []
    res = ResolvedManifest(manifest)
    assert set(res.models) == {"orders", "customers"}
    # growth_metrics.yml holds four documents; inline metrics of orders.yml and implicit metrics of measures are there too
    for name in ("discount_rate", "revenue_growth_mom", "revenue_qtd", "mobile_order_count", "aov", "cumulative_revenue",
                 "revenue_per_customer", "delivered_revenue", "revenue", "customer_count"):
        assert name in res.metrics, name
    assert res.metric_names["app_orders"] == "mobile_order_count"
    assert res.metric_names["margin"] == "total_margin"
    growth = res.metrics["revenue_growth_mom"]
    assert growth.inputs[1].offset.count == 1 and growth.inputs[1].offset.unit == "month"
    assert res.metrics["aov"].numerator.is_measure  # Seeknal ratios are of measures
    assert res.metrics["revenue_qtd"].grain_to_date == "quarter"


def test_metricflow_flavour_maps_to_the_same_model(tmp_path):
    write(tmp_path, "mf.yml", """
        semantic_models:
          - name: orders
            node_relation: {schema_name: transform, alias: orders}
            defaults: {agg_time_dimension: ordered_at}
            primary_entity: order
            entities: [{name: order, type: primary, expr: order_id}, {name: customer, type: foreign, expr: customer_id}]
            dimensions:
              - {name: ordered_at, type: time, expr: order_date, type_params: {time_granularity: day}}
              - {name: status, type: categorical}
            measures:
              - {name: revenue, agg: sum, expr: amount, create_metric: true}
              - {name: p90_amount, agg: percentile, expr: amount, agg_params: {percentile: 0.9}}
        metrics:
          - {name: rev, type: simple, type_params: {measure: revenue}, filter: "{{ Dimension('order__status') }} = 'done'"}
          - {name: rev_ratio, type: ratio, type_params: {numerator: rev, denominator: {name: revenue, filter: "status = 'x'"}}}
          - name: rev_growth
            type: derived
            type_params:
              expr: rev - rev_prev
              metrics: [{name: rev}, {name: rev, alias: rev_prev, offset_window: 1 month}]
          - {name: rev_mtd, type: cumulative, type_params: {measure: revenue, cumulative_type_params: {grain_to_date: month, period_agg: last}}}
        project_configuration:
          time_spines:
            - node_relation: {schema_name: util, alias: spine}
              primary_column: {name: date_day, time_granularity: day}
        """)
    manifest, problems = load_manifest([tmp_path])
    assert problems == []
    res = ResolvedManifest(manifest)
    assert res.models["orders"].relation.name == "transform.orders" and not res.models["orders"].relation.is_ref
    assert res.time_spine.column == "date_day"
    assert res.metrics["rev_mtd"].period_agg == "last"
    assert res.metrics["rev_growth"].inputs[1].offset.unit == "month"
    assert "revenue" in res.metrics  # create_metric
    assert "p90_amount" not in res.metrics
    assert "order__status" in res.index["orders"].elements


def test_definition_errors_are_reported_together_with_file_and_field(tmp_path):
    write(tmp_path, "orders.yml", ORDERS)
    write(tmp_path, "bad.yml", """
        kind: metric
        name: bad_simple
        type: simple
        measure: revenu
        ---
        kind: metric
        name: bad_ratio
        type: ratio
        numerator: revenue
        denominator: orders_count
        ---
        kind: metric
        name: loop_a
        type: derived
        expr: loop_b + 1
        inputs: [{metric: loop_b}]
        ---
        kind: metric
        name: loop_b
        type: derived
        expr: loop_a * 2
        inputs: [{metric: loop_a}]
        ---
        kind: metric
        name: bad_offset
        type: derived
        expr: revenue
        inputs: [{metric: revenue, offset: "one month"}]
        """)
    text = load_errors(tmp_path)
    # first the shape of every document (all such problems at once), then references, cycles and expressions
    assert "bad.yml: node 'bad_offset', field 'inputs[0].offset': 'one month' is not '<number> <" in text
    write(tmp_path, "bad.yml", (tmp_path / "bad.yml").read_text().split("---\nkind: metric\nname: bad_offset")[0])
    text = load_errors(tmp_path)
    assert "bad.yml: node 'bad_simple', field 'measure': unknown measure 'revenu' (did you mean: revenue?)" in text
    assert "node 'bad_ratio', field 'denominator': unknown measure 'orders_count' (did you mean: order_count?)" in text
    assert "cycle: loop_a -> loop_b -> loop_a" in text or "cycle: loop_b -> loop_a -> loop_b" in text


def test_filter_and_expression_errors_after_graph_checks(tmp_path):
    write(tmp_path, "orders.yml", ORDERS)
    write(tmp_path, "m.yml", """
        kind: metric
        name: bad_filter
        type: simple
        measure: revenue
        filter: "order_id__nope = 1"
        ---
        kind: metric
        name: bad_expr
        type: derived
        expr: revenue + other
        inputs: [{metric: revenue}]
        """)
    text = load_errors(tmp_path)
    assert "node 'bad_filter', field 'filter': 'order_id__nope' is not a dimension" in text
    assert "node 'bad_expr', field 'expr': 'other' in expr is not an input of the metric" in text


def test_model_errors(tmp_path):
    write(tmp_path, "orders.yml", ORDERS.replace("default_time_dimension: order_date", "default_time_dimension: status")
          .replace("agg: count", "agg: counted"))
    write(tmp_path, "dup.yml", """
        kind: semantic_model
        name: refunds
        model: "ref('transform.refunds')"
        entities: [{name: refund_id, type: primary}]
        measures: [{name: revenue, expr: amount, agg: sum}]
        joins: [{name: nowhere, relationship: many_to_one, sql: "{CUBE}.a = {nowhere}.a"}]
        """)
    text = load_errors(tmp_path)
    assert "field 'measures[1].agg'" in text
    write(tmp_path, "orders.yml", ORDERS.replace("default_time_dimension: order_date", "default_time_dimension: status"))
    text = load_errors(tmp_path)
    assert "field 'default_time_dimension': 'status' is a categorical dimension" in text
    assert "measure 'revenue' is also defined in semantic model" in text
    assert "join target 'nowhere' is not a semantic model" in text


def test_ambiguous_join_path_fails_at_load(tmp_path):
    write(tmp_path, "orders.yml", ORDERS)
    for name in ("customers", "customers_latest"):
        write(tmp_path, f"{name}.yml", f"""
            kind: semantic_model
            name: {name}
            model: "ref('transform.{name}')"
            entities: [{{name: customer_id, type: primary}}]
            dimensions: [{{name: region, type: categorical}}]
            measures: [{{name: {name}_count, expr: customer_id, agg: count_distinct}}]
            """)
    with pytest.raises(SemanticDefinitionError, match="ambiguous join path: 'customer_id__region'"):
        SemanticLayer.load(tmp_path)


def test_dimension_without_a_model_is_unknown(tmp_path):
    write(tmp_path, "orders.yml", ORDERS)
    write(tmp_path, "m.yml", """
        kind: metric
        name: by_region
        type: simple
        measure: revenue
        filter: "customer_id__region = 'EU'"
        """)
    with pytest.raises(SemanticDefinitionError, match="'customer_id__region' is not a dimension reachable"):
        SemanticLayer.load(tmp_path)


def test_yaml_errors_name_the_file(tmp_path):
    write(tmp_path, "broken.yml", "kind: semantic_model\nname: [oops\n")
    with pytest.raises(SemanticDefinitionError, match="broken.yml: not valid YAML"):
        SemanticLayer.load(tmp_path)


@pytest.mark.parametrize("inner, name", [
    ("Dimension('order__region')", "order__region"),
    ("Dimension('region', entity_path=['order', 'customer'])", "order__customer__region"),
    ("TimeDimension('metric_time', 'month')", "metric_time__month"),
    ("TimeDimension('metric_time', time_granularity_name='week')", "metric_time__week"),
    ("TimeDimension('order__ordered_at').grain('quarter')", "order__ordered_at__quarter"),
    ("Dimension('metric_time').date_part('dow')", "metric_time__extract_dow"),
    ("Entity('customer')", "customer"),
])
def test_template_names(inner, name):
    assert template_name(inner) == name


@pytest.mark.parametrize("text", [
    "a = 1; b = 2", "DROP TABLE x", "SELECT 1", "a IN (SELECT b FROM t)", "EXISTS (SELECT 1)", "count(*) > 1",
    "a + 1", "'x'", "t.a = 1", "{{ Dimension(__import__('os')) }} = 1", "{{ Metric('m', group_by=['e']) }} > 1",
    "row_number() OVER () = 1", "a = read_csv('x')", "{{ Dimension('a') ",
])
def test_refused_filters(text):
    with pytest.raises(FilterError):
        parse_filter(text)


def test_accepted_filter_names():
    f = parse_filter("{{ Dimension('customer__segment') }} IN ('a', 'b') AND NOT is_first AND metric_time__month >= '2024-01-01'")
    assert f.names == ("customer__segment", "is_first", "metric_time__month")


def test_windows():
    assert parse_window("7 days").count == 7 and parse_window("1 Month").unit == "month"
    with pytest.raises(ValueError):
        parse_window("a fortnight")
