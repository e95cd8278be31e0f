"""`seeknal query`: options (Seeknal and MetricFlow spellings), formats (table, csv, json, parquet files with their
types), --compile/--explain, errors for people (exit 2), and SQLMesh environments of a translated project: --env dev
reads the dev virtual layer, --compare prod prints both side by side; -p takes the Seeknal project or its translation."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import textwrap

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from click.testing import CliRunner

from helpers import write_project
from semantic_helpers import GOLDEN, SAMPLE_SEMANTIC
from seeknal_sqlmesh.cli import cli


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA transform")
    for name in ("orders_enriched", "customer_lifetime"):
        con.execute(f"CREATE TABLE transform.{name} AS SELECT * FROM read_parquet('{GOLDEN / f'transform.{name}.parquet'}')")
    con.close()
    return path


def run(*args):
    result = CliRunner().invoke(cli, ["query", *args], catch_exceptions=False)
    return result


def base(warehouse):
    return ["--semantic", str(SAMPLE_SEMANTIC), "--connection", str(warehouse)]


def csv_rows(text):
    """CSV text -> rows, numbers as floats (the quoting style is cli_kit's)."""

    def value(v):
        try:
            return float(v)
        except ValueError:
            return v

    return [[value(v) for v in row] for row in csv.reader(io.StringIO(text))]


def test_table_csv_json_and_output(warehouse, tmp_path):
    r = run(*base(warehouse), "--metrics", "revenue,order_count", "--dimensions", "status", "--order-by", "-revenue", "--limit", "2")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["status", "revenue", "order_count"] and lines[1].split()[0] == "delivered" and "(2 rows)" in r.output
    r = run(*base(warehouse), "--metrics", "revenue", "--group-by", "metric_time__month", "--where", "channel = 'web'",
            "--order", "metric_time__month", "--format", "csv")
    table = csv_rows(r.output)
    assert table[0] == ["metric_time__month", "revenue"] and len(table) == 4
    assert [row[0] for row in table[1:]] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    out = tmp_path / "r.json"
    r = run(*base(warehouse), "--metrics", "customer_count", "--dimensions", "segment", "--format", "json", "--output", str(out))
    assert r.exit_code == 0
    data = json.loads(out.read_text())
    assert {d["segment"] for d in data} == {"consumer", "smb", "enterprise"} and sum(d["customer_count"] for d in data) == 60


def test_time_constraint_options(warehouse):
    r = run(*base(warehouse), "--metrics", "revenue", "--group-by", "metric_time__month", "--start-time", "2024-02-15",
            "--end-time", "2024-02-20", "--format", "csv")
    assert r.output.splitlines()[1].startswith("2024-02-01,") and len(r.output.splitlines()) == 2


ITEMS = """
    semantic_models:
      - name: order_lines
        node_relation: {schema_name: transform, alias: orders_enriched}
        defaults: {agg_time_dimension: order_date}
        entities: [{name: order, type: primary, expr: order_id}]
        dimensions: [{name: order_date, type: time, type_params: {time_granularity: day}}, {name: status, type: categorical}]
        measures:
          - {name: items, agg: sum, expr: item_count, create_metric: true}
          - {name: orders, agg: count, expr: order_id, create_metric: true}
          - {name: sales, agg: sum, expr: order_total, create_metric: true}
    """


@pytest.fixture
def items_query(warehouse, tmp_path):
    (tmp_path / "items.yml").write_text(textwrap.dedent(ITEMS))
    con = duckdb.connect(str(warehouse), read_only=True)
    expected = con.execute("""
        SELECT CAST(date_trunc('month', order_date) AS DATE), status, SUM(item_count), COUNT(order_id), SUM(order_total)
        FROM transform.orders_enriched GROUP BY ALL ORDER BY 1, 2""").fetchall()
    con.close()
    args = ["--semantic", str(tmp_path / "items.yml"), "--connection", str(warehouse), "--metrics", "items,orders,sales",
            "--group-by", "metric_time__month,status"]
    return args, expected


def test_parquet_file_keeps_the_types(items_query, tmp_path):
    args, expected = items_query
    out = tmp_path / "out" / "result.parquet"
    r = run(*args, "-o", str(out))
    assert r.exit_code == 0, r.output
    assert f"wrote {len(expected)} rows to {out}" in r.output
    data = pq.read_table(out)
    assert data.schema.names == ["metric_time__month", "status", "items", "orders", "sales"]
    assert data.schema.field("metric_time__month").type == pa.date32()  # a date, not a timestamp or text
    assert data.schema.field("items").type == pa.int64()  # a sum of integers stays an integer
    assert data.schema.field("orders").type == pa.int64()
    assert data.schema.field("sales").type == pa.float64()
    assert [tuple(row.values()) for row in data.to_pylist()] == expected  # sorted by the group-by keys
    frame = pd.read_parquet(out)
    assert isinstance(frame["metric_time__month"][0], dt.date) and frame["items"].dtype == "int64"


def test_csv_and_json_files(items_query, tmp_path):
    args, expected = items_query
    run(*args, "-o", str(tmp_path / "r.csv"))
    frame = pd.read_csv(tmp_path / "r.csv", parse_dates=["metric_time__month"])
    assert list(frame.columns) == ["metric_time__month", "status", "items", "orders", "sales"]
    assert frame["items"].dtype == "int64" and frame["orders"].dtype == "int64" and frame["sales"].dtype == "float64"
    assert [d.date() for d in frame["metric_time__month"]] == [row[0] for row in expected]
    assert (tmp_path / "r.csv").read_text().splitlines()[1].split(",")[0].strip('"') == "2024-01-01"  # not a timestamp
    run(*args, "--format", "json", "-o", str(tmp_path / "r.txt"))  # --format wins over the extension
    rows = json.loads((tmp_path / "r.txt").read_text())
    assert rows[0]["metric_time__month"] == expected[0][0].isoformat()
    assert [(r["items"], r["orders"]) for r in rows] == [(e[2], e[3]) for e in expected]
    assert all(isinstance(r["items"], int) and isinstance(r["sales"], float) for r in rows)


def test_parquet_needs_a_file_and_unknown_extensions_are_refused(items_query, tmp_path):
    args, _ = items_query
    r = run(*args, "--format", "parquet")
    assert r.exit_code == 2 and "Parquet is binary" in r.output
    r = run(*args, "-o", str(tmp_path / "r.xlsx"))
    assert r.exit_code == 2 and "cannot tell the format" in r.output and not (tmp_path / "r.xlsx").exists()


def test_compile_and_explain(warehouse):
    r = run("--semantic", str(SAMPLE_SEMANTIC), "--metrics", "revenue_growth_mom,cumulative_revenue", "--group-by", "metric_time__month",
            "--compile", "--dialect", "starrocks")
    assert r.exit_code == 0
    sqlglot.parse_one(r.output, read="starrocks")
    r = run("--semantic", str(SAMPLE_SEMANTIC), "--metrics", "revenue,customer_count", "--group-by", "segment", "--explain")
    assert r.exit_code == 0
    assert "-- reads:" in r.output
    assert "customers (ref('transform.customer_lifetime') -> transform.customer_lifetime): customer_id, segment" in r.output
    assert "orders (ref('transform.orders_enriched') -> transform.orders_enriched): customer_id, order_total" in r.output


@pytest.mark.parametrize("args, message", [
    (["--metrics", "revenu"], "did you mean: revenue"),
    (["--metrics", "revenue", "--dimensions", "stauts"], "did you mean: status"),
    (["--metrics", "revenue", "--filter", "status = 'x'; DELETE FROM transform.orders_enriched"], "single expression"),
    (["--metrics", "revenue", "--env", "dev"], "need a translated SQLMesh project"),
    (["--metrics", "revenue", "--connection", "postgres://u@h/db"], "--compile --dialect postgres"),
    (["--metrics", "revenue", "--connection", "/nonexistent/w.duckdb"], "does not exist"),
    ([], "ask for --metrics"),
])
def test_errors_for_people(warehouse, args, message):
    r = CliRunner().invoke(cli, ["query", "--semantic", str(SAMPLE_SEMANTIC), *args])
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output


def test_bad_definitions_exit_2(tmp_path):
    (tmp_path / "m.yml").write_text("kind: metric\nname: m\ntype: simple\nmeasure: nope\n")
    (tmp_path / "s.yml").write_text((SAMPLE_SEMANTIC / "semantic_models" / "orders.yml").read_text())
    r = CliRunner().invoke(cli, ["query", "--semantic", str(tmp_path), "--metrics", "m"])
    assert r.exit_code == 2 and "m.yml: node 'm', field 'measure': unknown measure 'nope'" in r.output


# ---------------------------------------------------------------- SQLMesh environments

SEMANTIC = """
    kind: semantic_model
    name: sales
    model: "ref('transform.sales')"
    default_time_dimension: sold_on
    entities: [{name: sale_id, type: primary}]
    dimensions: [{name: sold_on, type: time}, {name: region, type: categorical}]
    measures: [{name: amount, expr: amount, agg: sum}, {name: sales_count, expr: "1", agg: count}]
    """


def _sales(factor: int) -> dict:
    return {"kind": "transform", "name": "sales", "inputs": [{"ref": "source.sales_raw"}],
            "transform": f"SELECT sale_id, CAST(sold_on AS DATE) AS sold_on, region, "
                         f"CASE WHEN sale_id = 1 THEN amount * {factor} ELSE amount END AS amount FROM ref('source.sales_raw')"}


@pytest.fixture(scope="module")
def sqlmesh_project(tmp_path_factory):
    """A Seeknal project translated to target/sqlmesh, planned into prod; dev has the first sale tripled."""
    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
    from sqlmesh import Context

    from seeknal_sqlmesh.translators import translate_project

    root = tmp_path_factory.mktemp("smp") / "shop"
    nodes = {
        "sources/sales_raw.yml": {"kind": "source", "name": "sales_raw", "source": "csv", "table": "data/sales.csv"},
        "transforms/sales.yml": _sales(1),
        "semantic_models/sales.yml": textwrap.dedent(SEMANTIC),
    }
    sales = "sale_id,sold_on,region,amount\n1,2024-01-01,eu,10.0\n2,2024-01-02,us,5.0\n3,2024-02-01,eu,1.0\n"
    write_project(root, nodes, files={"data/sales.csv": sales})
    translated = root / "target" / "sqlmesh"
    translate_project(root, translated)
    Context(paths=str(translated)).plan(auto_apply=True, no_prompts=True)
    write_project(root, {**nodes, "transforms/sales.yml": _sales(3)})  # dev: the first sale triples
    translate_project(root, translated)
    ctx = Context(paths=str(translated))
    ctx.plan("dev", auto_apply=True, no_prompts=True)
    ctx.close()
    return root


def test_env_reads_the_dev_virtual_layer(sqlmesh_project):
    translated = sqlmesh_project / "target" / "sqlmesh"
    r = run("-p", str(sqlmesh_project), "--metrics", "amount", "--dimensions", "region", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert csv_rows(r.output)[1:] == [["eu", 11.0], ["us", 5.0]]
    # -p takes the translated project as well
    r = run("-p", str(translated), "--metrics", "amount", "--dimensions", "region", "--format", "csv", "--env", "dev")
    assert r.exit_code == 0, r.output
    assert csv_rows(r.output)[1:] == [["eu", 31.0], ["us", 5.0]]
    r = run("-p", str(sqlmesh_project), "--metrics", "amount", "--dimensions", "region", "--env", "dev", "--explain")
    assert "transform__dev.sales" in r.output.replace('"', "")


def test_compare_environments_side_by_side(sqlmesh_project):
    r = run("-p", str(sqlmesh_project), "--metrics", "amount,sales_count", "--group-by", "metric_time__month", "--env", "dev",
            "--compare", "prod", "--format", "csv")
    assert r.exit_code == 0, r.output
    table = csv_rows(r.output)
    assert table[0] == ["metric_time__month", "amount__dev", "amount__prod", "amount__diff", "sales_count__dev",
                        "sales_count__prod", "sales_count__diff"]
    assert table[1] == ["2024-01-01", 35.0, 15.0, 20.0, 2.0, 2.0, 0.0]
    assert table[2] == ["2024-02-01", 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]


def test_compare_writes_typed_parquet(sqlmesh_project, tmp_path):
    out = tmp_path / "side.parquet"
    r = run("-p", str(sqlmesh_project), "--metrics", "sales_count", "--group-by", "metric_time__month", "--env", "dev",
            "--compare", "prod", "-o", str(out))
    assert r.exit_code == 0, r.output
    data = pq.read_table(out)
    assert data.schema.field("metric_time__month").type == pa.date32()
    assert data.schema.field("sales_count__dev").type == pa.int64()
    assert data.column("sales_count__diff").to_pylist() == [0.0, 0.0]


@pytest.mark.parametrize("args, message", [
    (["--env", "qa"], "environment 'qa' does not exist"),
    (["--env", "dev", "--compare", "DEV"], "--compare names the same environment"),
    (["--env", "dev", "--connection", "x.duckdb"], "not a --connection database"),
])
def test_environment_errors(sqlmesh_project, args, message):
    r = CliRunner().invoke(cli, ["query", "-p", str(sqlmesh_project), "--metrics", "amount", *args])
    assert r.exit_code == 2 and message in r.output, r.output


def test_seeknal_project_not_translated_yet(tmp_path):
    project = write_project(tmp_path / "p", {"semantic_models/sales.yml": textwrap.dedent(SEMANTIC)})
    # compiling needs no translation: the Seeknal project's own YAML is read
    r = CliRunner().invoke(cli, ["query", "-p", str(project), "--metrics", "amount", "--compile"])
    assert r.exit_code == 0, r.output
    assert "SUM(" in r.output
    r = CliRunner().invoke(cli, ["query", "-p", str(project), "--metrics", "amount"])
    assert r.exit_code == 2 and "has not been translated yet" in r.output and "seeknal translate" in r.output


def test_python_api_with_a_context(sqlmesh_project):
    from sqlmesh import Context

    from seeknal_sqlmesh.semantic import SemanticLayer

    translated = sqlmesh_project / "target" / "sqlmesh"
    ctx = Context(paths=str(translated), load=False)
    prod = SemanticLayer.load(translated, connection=ctx)
    dev = SemanticLayer.load(translated, connection=(ctx, "dev"))
    assert prod.query(metrics=["amount"])["amount"][0] == 16.0
    assert dev.query(metrics=["amount"])["amount"][0] == 36.0
    side = dev.compare(prod, labels=("dev", "prod"), metrics=["amount"], group_by=["region"])
    assert list(side.columns) == ["region", "amount__dev", "amount__prod", "amount__diff"]
    assert list(side["amount__diff"]) == [20.0, 0.0]
