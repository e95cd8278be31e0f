"""Keys nothing reads are warned about (file, node, dotted key path, nearest known key), never silently dropped;
keys Seeknal 2.13 really uses give no warning."""

from __future__ import annotations

import json
import typing as t

import pytest
from click.testing import CliRunner

from seeknal_sqlmesh import plugins
from seeknal_sqlmesh.cli import cli
from seeknal_sqlmesh.errors import Problem
from seeknal_sqlmesh.project import load_project
from seeknal_sqlmesh.translators import translate_project
from tests.helpers import orders_csv, write_project

SOURCE = {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"}


def transform(**extra: t.Any) -> t.Dict[str, t.Any]:
    return {
        "kind": "transform",
        "name": "daily",
        "inputs": [{"ref": "source.orders"}],
        "transform": "SELECT order_date, SUM(amount) AS amount FROM ref('source.orders') GROUP BY 1",
        **extra,
    }


def warnings_of(tmp_path, nodes: t.Dict[str, t.Any], files: t.Optional[t.Dict[str, str]] = None) -> t.List[Problem]:
    write_project(tmp_path, nodes, files=files)
    _, problems = load_project(tmp_path)
    assert not problems.items, problems.items
    return problems.warnings


def test_a_misspelled_key_warns_with_file_node_key_and_suggestion(tmp_path):
    found = warnings_of(tmp_path, {"sources/orders.yml": SOURCE, "transforms/daily.yml": transform(descripton="x")})
    assert [(w.file, w.node, w.field) for w in found] == [
        ("seeknal/transforms/daily.yml", "transform.daily", "descripton")
    ]
    assert "unknown key 'descripton' is ignored (did you mean: description?)" in str(found[0])


@pytest.mark.parametrize(
    ("node", "field", "suggestion"),
    [
        # the singular form is read as materializations[0]; the warning names it as written
        (
            transform(materialization={"mode": "incremental_by_time", "time_column": "order_date", "lookbak": 2}),
            "materialization.lookbak",
            "lookback",
        ),
        (
            transform(materializations=[{"type": "iceberg", "table": "a.b.c"}, {"type": "postgresql", "tabel": "s.t"}]),
            "materializations[1].tabel",
            "table",
        ),
        (transform(freshness={"time_colum": "order_date"}), "freshness.time_colum", "time_column"),
        (transform(columns={"amount": {"description": "sum", "dtpye": "double"}}), "columns.amount.dtpye", "dtype"),
        (transform(schedule={"cron": "@daily", "timezon": "UTC"}), "schedule.timezon", "timezone"),
    ],
)
def test_a_nested_misspelled_key_is_named_by_its_dotted_path(tmp_path, node, field, suggestion):
    found = warnings_of(tmp_path, {"sources/orders.yml": SOURCE, "transforms/daily.yml": node})
    assert [(w.node, w.field) for w in found] == [("transform.daily", field)]
    assert f"(did you mean: {suggestion}" in found[0].message


def test_nested_keys_of_every_kind(tmp_path):
    nodes = {
        "sources/orders.yml": SOURCE,
        "fg.yml": {
            "kind": "feature_group",
            "name": "fg",
            "inputs": [{"ref": "source.orders"}],
            "entity": {"name": "customer", "join_keys": ["customer_id"], "descrption": "x"},
            "materialization": {"event_time_col": "order_date", "lookbak": 3},
        },
        "agg.yml": {
            "kind": "aggregation",
            "name": "agg",
            "id_col": "customer_id",
            "feature_date_col": "order_date",
            "application_date_col": "order_date",
            "inputs": [{"ref": "source.orders"}],
            "features": [{"name": "spend", "column": "amount", "basic": ["sum"], "rolling": [], "colum": "x"}],
        },
        "soa.yml": {
            "kind": "second_order_aggregation",
            "name": "soa",
            "id_col": "customer_id",
            "feature_date_col": "order_date",
            "application_date_col": "order_date",
            "source": "aggregation.agg",
            "features": {"spend_sum": {"basic": ["sum"], "source_featur": "spend_sum"}},
        },
        "rule.yml": {
            "kind": "rule",
            "name": "r",
            "inputs": [{"ref": "source.orders"}],
            "rule": {"type": "null", "columns": ["amount"], "parms": {}},
        },
        "profile.yml": {
            "kind": "profile",
            "name": "p",
            "inputs": [{"ref": "source.orders"}],
            "profile": {"columns": ["amount"], "max_top_values": 3},
        },
    }
    found = {(w.node, w.field): str(w) for w in warnings_of(tmp_path, nodes)}
    assert set(found) == {
        ("feature_group.fg", "entity.descrption"),
        ("feature_group.fg", "materialization.lookbak"),
        ("aggregation.agg", "features[0].colum"),
        ("second_order_aggregation.soa", "features.spend_sum.source_featur"),
        ("rule.r", "rule[0].parms"),
        ("profile.p", "profile.max_top_values"),
    }
    assert "did you mean: lookback" in found[("feature_group.fg", "materialization.lookbak")]
    assert "did you mean: source_feature" in found[("second_order_aggregation.soa", "features.spend_sum.source_featur")]
    assert "write it as profile.params.max_top_values" in found[("profile.p", "profile.max_top_values")]


def test_valid_nodes_give_no_warning(tmp_path):
    """Keys Seeknal 2.13 reads (or documents) on each kind, including ones nothing translates."""
    nodes = {
        "sources/orders.yml": {
            **SOURCE,
            "description": "orders",
            "owner": ["a", "b"],
            "owners": ["a"],
            "tags": "raw",
            "columns": [{"name": "amount", "description": "total", "dtype": "double"}],
            "schema": [{"name": "amount", "data_type": "double"}],
            "params": {"delimiter": ",", "header": True},
            "freshness": {"time_column": "order_date", "warn_after": "1d", "error_after": "2d"},
        },
        "transforms/daily.yml": transform(
            materialization={
                "enabled": True,
                "table": "cat.ns.daily",
                "mode": "upsert",
                "create_table": True,
                "unique_keys": ["order_date"],
                "when_matched_update_if": "x",
                "compare_columns": ["amount"],
                "when_not_matched": "insert",
                "max_batch_bytes": 1000,
                "partition_by": "order_date",
            },
            audits=[{"type": "not_null", "columns": ["order_date"], "severity": "warn"}],
            schedule={"cron": "@daily", "timezone": "UTC"},
        ),
        "transforms/pg.yml": {
            **transform(),
            "name": "pg",
            "materializations": [
                {
                    "type": "postgresql",
                    "connection": "pg",
                    "table": "s.t",
                    "mode": "incremental_by_time",
                    "time_column": "order_date",
                    "lookback": "7d",
                    "cascade": True,
                }
            ],
        },
        "fg.yml": {
            "kind": "feature_group",
            "name": "fg",
            "inputs": [{"ref": "source.orders"}],
            "entity": "customer",
            "features": {"amount": {"description": "x", "dtype": "float"}},
            "engine": "duckdb",
            "mode": "overwrite",
            "feature_start_time": "2024-01-01",
            "feature_end_time": "2024-02-01",
            "tests": [{"not_null": ["amount"]}],
            "materialization": {
                "event_time_col": "order_date",
                "offline": {"enabled": True, "format": "parquet"},
                "online": {"enabled": False, "ttl": "1d"},
                "lookback": 2,
            },
        },
        "agg.yml": {
            "kind": "aggregation",
            "name": "agg",
            "id_col": "customer_id",
            "feature_date_col": "order_date",
            "application_date_col": "order_date",
            "group_by": [],
            "source": "source.orders",
            "inputs": [{"ref": "source.orders"}],
            "features": [
                {
                    "name": "spend",
                    "column": "amount",
                    "basic": ["sum"],
                    "since": [{"condition": "amount > 1", "aggs": ["count"]}],
                }
            ],
        },
        "soa.yml": {
            "kind": "second_order_aggregation",
            "name": "soa",
            "id_col": "customer_id",
            "feature_date_col": "order_date",
            "application_date_col": "order_date",
            "source": "aggregation.agg",
            "inputs": [{"ref": "aggregation.agg"}],
            "features": {
                "spend_sum": {
                    "basic": ["sum"],
                    "window": [1, 7],
                    "percentile": [50],
                    "ratio": {"numerator": [1, 3], "denominator": [4, 9], "aggs": ["sum"]},
                }
            },
        },
        "rule.yml": {
            "kind": "rule",
            "name": "r",
            "inputs": [{"ref": "source.orders"}],
            "params": {"severity": "warn", "error_message": "bad"},
            "rule": [
                {"type": "range", "column": "amount", "params": {"min_val": 0}},
                {"type": "sql_assertion", "sql": "SELECT * FROM input_data WHERE amount < 0"},
            ],
        },
        "profile.yml": {
            "kind": "profile",
            "name": "p",
            "inputs": [{"ref": "source.orders"}],
            "profile": {"columns": ["amount"], "params": {"max_top_values": 3}},
        },
        "exposure.yml": {
            "kind": "exposure",
            "name": "e",
            "type": "file",
            "depends_on": [{"ref": "transform.daily"}],
            "url": "out.csv",
            "params": {"format": "csv", "path": "out.csv"},
        },
        "model.yml": {
            "kind": "model",
            "name": "m",
            "inputs": [{"ref": "transform.daily"}],
            "output_columns": ["p"],
            "training": {"algorithm": "random_forest", "label_source": "x", "label_column": "y"},
            "aggregation": {},
            "tests": [{"min_accuracy": 0.5}],
        },
        "semantic_models/orders.yml": {
            "kind": "semantic_model",
            "name": "orders",
            "model": "ref('transform.daily')",
            "default_time_dimension": "order_date",
            "entities": [{"name": "order_date", "type": "primary"}],
            "dimensions": [{"name": "order_date", "type": "time", "time_granularity": "day"}],
            "measures": [{"name": "revenue", "expr": "amount", "agg": "sum"}],
            "joins": [],
            "metrics": [{"name": "r2", "type": "simple", "measure": "revenue"}],
        },
        "metrics/m.yml": {
            "kind": "metric",
            "name": "growth",
            "type": "derived",
            "expr": "a / b",
            "aliases": ["g"],
            "inputs": [{"metric": "a"}, {"metric": "b", "offset": "1 month"}],
        },
        "metrics/q.yml": {
            "kind": "metric",
            "name": "qtd",
            "type": "cumulative",
            "measure": "revenue",
            "grain_to_date": "quarter",
            "filter": "amount > 0",
        },
        "metrics/ratio.yml": {"kind": "metric", "name": "ratio", "type": "ratio", "numerator": "a", "denominator": "b"},
    }
    python = """
from seeknal.pipeline import transform
from seeknal.pipeline.decorators import materialize

@transform(name="py", inputs=["source.orders"], tags=["x"], description="d")
@materialize(type="postgresql", connection="pg", table="s.py", mode="upsert_by_key", unique_keys=["order_date"])
def py(ctx):
    return ctx.ref("source.orders")
"""
    assert warnings_of(tmp_path, {**nodes, "pipelines/py.py": python}, files={"data/orders.csv": orders_csv()}) == []


def test_feature_group_lookback_is_a_typed_field(tmp_path):
    write_project(
        tmp_path,
        {
            "sources/orders.yml": SOURCE,
            "fg.yml": {
                "kind": "feature_group",
                "name": "fg",
                "inputs": [{"ref": "source.orders"}],
                "entity": "customer",
                "transform": "SELECT customer_id, order_date, amount FROM source",
                "materialization": {"event_time_col": "order_date", "lookback": "3d"},
            },
        },
        files={"data/orders.csv": orders_csv()},
    )
    project, problems = load_project(tmp_path)
    assert not problems.warnings
    assert project.nodes["feature_group.fg"].materialization.lookback == 3  # "3d" is read as days, as for targets
    out = translate_project(tmp_path, tmp_path / "out")
    model = (out.output_dir / "models" / "feature_group" / "fg.sql").read_text()
    assert "time_column order_date" in model and "lookback 3" in model


def test_python_decorator_arguments_are_named_as_such(tmp_path):
    python = """
from seeknal.pipeline import transform

@transform(name="py", inputs=["source.orders"], tagz=["x"])
def py(ctx):
    return ctx.ref("source.orders")
"""
    found = warnings_of(tmp_path, {"sources/orders.yml": SOURCE, "pipelines/py.py": python})
    assert [(w.file, w.node, w.field) for w in found] == [("seeknal/pipelines/py.py", "transform.py", "tagz")]
    assert "decorator argument 'tagz' is passed to the function as a parameter (did you mean: tags?)" in found[0].message


def test_other_decorator_arguments_are_params_as_in_seeknal(tmp_path):
    """Seeknal's decorators take `**params`: `@transform(min_reviews=3)` is `ctx.get_param("min_reviews")`."""
    python = """
from seeknal.pipeline import transform

@transform(name="py", inputs=["source.orders"], min_reviews=3, region="EU")
def py(ctx):
    return ctx.ref("source.orders")
"""
    write_project(tmp_path, {"sources/orders.yml": SOURCE, "pipelines/py.py": python})
    project, problems = load_project(tmp_path)
    assert problems.warnings == []
    assert project.nodes["transform.py"].params == {"min_reviews": 3, "region": "EU"}


def test_keys_seeknal_documents_but_ignores_get_advice(tmp_path):
    nodes = {
        "sources/orders.yml": {**SOURCE, "connection": "pg"},
        # `path` is also the name of the loader's own field: the YAML key must neither be used nor pass silently
        "exposure.yml": {
            "kind": "exposure",
            "name": "e",
            "type": "file",
            "depends_on": [{"ref": "source.orders"}],
            "path": "out.csv",
            "params": {"path": "real.csv"},
        },
        "agg.yml": {
            "kind": "aggregation",
            "name": "agg",
            "id_col": "customer_id",
            "feature_date_col": "order_date",
            "application_date_col": "order_date",
            "inputs": [{"ref": "source.orders"}],
            "features": [{"name": "spend", "basic": ["sum"], "window": "7d", "functions": ["sum"]}],
        },
    }
    write_project(tmp_path, nodes)
    project, problems = load_project(tmp_path)
    found = {(w.node, w.field): w for w in problems.warnings}
    assert set(found) == {
        ("source.orders", "connection"),
        ("exposure.e", "path"),
        ("aggregation.agg", "features[0].window"),
        ("aggregation.agg", "features[0].functions"),
    }
    assert found[("source.orders", "connection")].hint.endswith("write it as params.connection")
    assert found[("exposure.e", "path")].hint.endswith("write it as params.path")
    assert "rolling" in found[("aggregation.agg", "features[0].window")].hint
    assert project.nodes["exposure.e"].path == tmp_path / "seeknal" / "exposure.yml"


def test_keys_a_plugin_reads_are_known(tmp_path, monkeypatch):
    class Reader(plugins.Plugin):
        name = "reader"

        def node_keys(self, kind: str) -> t.Collection[str]:
            return ("engine_hints",) if kind == "transform" else ()

    monkeypatch.setattr(plugins, "plugins", lambda: (Reader(),))
    plugins.node_keys.cache_clear()
    try:
        nodes = {
            "sources/orders.yml": {**SOURCE, "engine_hints": {}},
            "transforms/daily.yml": transform(engine_hint={}),
        }
        found = {(w.node, w.field): w.message for w in warnings_of(tmp_path, nodes)}
    finally:
        plugins.node_keys.cache_clear()
    # known on the kind the plugin names, unknown elsewhere; and suggested when misspelled
    assert set(found) == {("source.orders", "engine_hints"), ("transform.daily", "engine_hint")}
    assert "did you mean: engine_hints" in found[("transform.daily", "engine_hint")]


def test_warnings_reach_the_translate_output_and_the_manifest(tmp_path):
    write_project(
        tmp_path / "p",
        {"sources/orders.yml": SOURCE, "transforms/daily.yml": transform(tgas=["x"])},
        files={"data/orders.csv": orders_csv()},
    )
    result = CliRunner().invoke(cli, ["translate", str(tmp_path / "p"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    expected = (
        "seeknal/transforms/daily.yml: node 'transform.daily', field 'tgas': "
        "unknown key 'tgas' is ignored (did you mean: tags?)"
    )
    assert expected in result.output
    manifest = json.loads((tmp_path / "out" / "seeknal" / "manifest.json").read_text())
    assert expected in manifest["warnings"]


def test_metric_keys_the_semantic_plugin_reads_are_not_unknown(tmp_path):
    metric = {"kind": "metric", "name": "revenue_7d", "type": "cumulative", "measure": "revenue", "window": "7 days",
              "fill_nulls_with": 0, "join_to_timespine": True, "period_agg": "last", "windw": "x"}
    found = warnings_of(tmp_path, {"sources/orders.yml": SOURCE, "metrics/revenue_7d.yml": metric})
    assert [(w.node, w.field) for w in found] == [("metric.revenue_7d", "windw")]
    assert "did you mean: window" in str(found[0])
