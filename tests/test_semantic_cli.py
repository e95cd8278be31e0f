"""`seeknal query`: options (Seeknal and MetricFlow spellings), formats, --compile/--explain, errors for people (exit 2),
and SQLMesh environments: --env dev reads the dev virtual layer, --compare prod prints both side by side."""

from __future__ import annotations

import json
import os
import textwrap

import duckdb
import pytest
import sqlglot
from click.testing import CliRunner

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


def test_table_csv_json_and_output(warehouse, tmp_path):
    r = run(*base(warehouse), "--metrics", "revenue,order_count", "--dimensions", "status", "--order-by", "-revenue", "--limit", "2")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split() == ["status", "revenue", "order_count"] and lines[1].split()[0] == "delivered" and "(2 rows)" in r.output
    r = run(*base(warehouse), "--metrics", "revenue", "--group-by", "metric_time__month", "--where", "channel = 'web'",
            "--order", "metric_time__month", "--format", "csv")
    assert r.output.splitlines()[0] == "metric_time__month,revenue" and len(r.output.splitlines()) == 4
    out = tmp_path / "r.json"
    r = run(*base(warehouse), "--metrics", "customer_count", "--dimensions", "segment", "--format", "json", "--output", str(out))
    assert r.exit_code == 0
    data = json.loads(out.read_text())
    assert {d["segment"] for d in data} == {"consumer", "smb", "enterprise"} and sum(d["customer_count"] for d in data) == 60


def test_time_constraint_options(warehouse):
    r = run(*base(warehouse), "--metrics", "revenue", "--group-by", "metric_time__month", "--start-time", "2024-02-15",
            "--end-time", "2024-02-20", "--format", "csv")
    assert r.output.splitlines()[1].startswith("2024-02-01") and len(r.output.splitlines()) == 2


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


def _model(factor: int) -> str:
    return textwrap.dedent(f"""
        MODEL (name transform.sales, kind FULL);
        SELECT * FROM (VALUES (1, DATE '2024-01-01', 'eu', 10.0 * {factor}), (2, DATE '2024-01-02', 'us', 5.0),
                              (3, DATE '2024-02-01', 'eu', 1.0)) AS t(sale_id, sold_on, region, amount)
        """)


@pytest.fixture(scope="module")
def sqlmesh_project(tmp_path_factory):
    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
    from sqlmesh import Context

    root = tmp_path_factory.mktemp("smp")
    (root / "config.yaml").write_text(textwrap.dedent(f"""
        gateways:
          local:
            connection: {{type: duckdb, database: {root / 'warehouse.duckdb'}}}
        default_gateway: local
        model_defaults: {{dialect: duckdb, start: '2024-01-01'}}
        """))
    (root / "models").mkdir()
    (root / "models" / "sales.sql").write_text(_model(1))
    sem = root / "seeknal" / "semantic" / "semantic_models"
    sem.mkdir(parents=True)
    (sem / "sales.yml").write_text(textwrap.dedent(SEMANTIC))
    ctx = Context(paths=str(root))
    ctx.plan(auto_apply=True, no_prompts=True)
    (root / "models" / "sales.sql").write_text(_model(3))  # dev: the first sale triples
    ctx = Context(paths=str(root))
    ctx.plan("dev", auto_apply=True, no_prompts=True)
    ctx.close()
    return root


def test_env_reads_the_dev_virtual_layer(sqlmesh_project):
    r = run("-p", str(sqlmesh_project), "--metrics", "amount", "--dimensions", "region", "--format", "csv")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1:] == ["eu,11.0", "us,5.0"]
    r = run("-p", str(sqlmesh_project), "--metrics", "amount", "--dimensions", "region", "--format", "csv", "--env", "dev")
    assert r.output.splitlines()[1:] == ["eu,31.0", "us,5.0"]
    r = run("-p", str(sqlmesh_project), "--metrics", "amount", "--dimensions", "region", "--env", "dev", "--explain")
    assert "transform__dev.sales" in r.output


def test_compare_environments_side_by_side(sqlmesh_project):
    r = run("-p", str(sqlmesh_project), "--metrics", "amount,sales_count", "--group-by", "metric_time__month", "--env", "dev",
            "--compare", "prod", "--format", "csv")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "metric_time__month,amount__dev,amount__prod,amount__diff,sales_count__dev,sales_count__prod,sales_count__diff"
    assert lines[1] == "2024-01-01,35.0,15.0,20.0,2,2,0.0"
    assert lines[2] == "2024-02-01,1.0,1.0,0.0,1,1,0.0"


def test_unknown_environment(sqlmesh_project):
    r = CliRunner().invoke(cli, ["query", "-p", str(sqlmesh_project), "--metrics", "amount", "--env", "qa"])
    assert r.exit_code == 2 and "environment 'qa' does not exist" in r.output


def test_python_api_with_a_context(sqlmesh_project):
    from sqlmesh import Context

    from seeknal_sqlmesh.semantic import SemanticLayer

    ctx = Context(paths=str(sqlmesh_project), load=False)
    prod = SemanticLayer.load(sqlmesh_project, connection=ctx)
    dev = SemanticLayer.load(sqlmesh_project, connection=(ctx, "dev"))
    assert prod.query(metrics=["amount"])["amount"][0] == 16.0
    assert dev.query(metrics=["amount"])["amount"][0] == 36.0
    side = dev.compare(prod, labels=("dev", "prod"), metrics=["amount"], group_by=["region"])
    assert list(side.columns) == ["region", "amount__dev", "amount__prod", "amount__diff"]
    assert list(side["amount__diff"]) == [20.0, 0.0]
