"""`seeknal starrocks setup-catalog`, `seeknal deploy-metrics`, `seeknal repl`: output, errors for people (exit 2),
no secret in anything printed. Runs against the StarRocks-compatible test server (tests/test_starrocks_integration.py)."""

from __future__ import annotations

from pathlib import Path

import sqlglot
from click.testing import CliRunner
from sqlglot import exp

from seeknal_sqlmesh.cli import cli
from tests.helpers import orders_csv, write_project
from tests.test_starrocks_integration import sql, srtest_python, starrocks  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"


def server_env(settings) -> dict:
    return {"STARROCKS_HOST": settings["host"], "STARROCKS_PORT": str(settings["port"]), "STARROCKS_USER": settings["user"],
            "STARROCKS_PASSWORD": settings["password"]}


def invoke(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_setup_catalog_renders_and_executes(starrocks, sql):  # noqa: F811
    env = {**server_env(starrocks), "AWS_SECRET_ACCESS_KEY": "very-secret", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_ENDPOINT_URL": "http://minio:9000",
           "LAKEKEEPER_CLIENT_ID": "seeknal", "LAKEKEEPER_CLIENT_SECRET": "another-secret"}
    shown = invoke("starrocks", "setup-catalog", "--connection", "reporting", "-p", str(SAMPLE), "--catalog", "lake_cli", env=env)
    assert shown.exit_code == 0, shown.output
    assert "very-secret" not in shown.output and "another-secret" not in shown.output
    assert "'iceberg.catalog.uri' = 'http://localhost:8181'" in shown.output  # from profiles.yml
    assert "'aws.s3.secret_key' = '${AWS_SECRET_ACCESS_KEY}'" in shown.output
    sql("CREATE DATABASE IF NOT EXISTS reporting")
    done = invoke("starrocks", "setup-catalog", "--connection", "reporting", "-p", str(SAMPLE), "--catalog", "lake_cli", "--execute", env=env)
    assert done.exit_code == 0, done.output
    assert "very-secret" not in done.output
    assert "lake_cli" in [row[0] for row in sql("SHOW CATALOGS")]


def test_errors_for_people():
    unknown = invoke("starrocks", "setup-catalog", "--connection", "nope", "-p", str(SAMPLE))
    assert unknown.exit_code == 2 and "no StarRocks connection 'nope'" in unknown.output and "known: reporting" in unknown.output
    down = invoke("deploy-metrics", "--connection", "reporting", "-p", str(SAMPLE), "--metric", "revenue",
                  env={"STARROCKS_HOST": "127.0.0.1", "STARROCKS_PORT": "1"})
    assert down.exit_code == 2 and "cannot connect to StarRocks at 127.0.0.1:1" in down.output
    bad = invoke("deploy-metrics", "--connection", "reporting", "-p", str(SAMPLE), "--refresh", "soon", "--dry-run")
    assert bad.exit_code == 2 and "--refresh 'soon'" in bad.output
    missing = invoke("deploy-metrics", "--connection", "reporting", "-p", str(SAMPLE), "--metric", "nope", "--dry-run")
    assert missing.exit_code == 2 and "unknown metric(s) nope" in missing.output


def test_deploy_metrics_dry_run_uses_the_semantic_layer():
    out = invoke("deploy-metrics", "--connection", "reporting", "-p", str(SAMPLE), "--dry-run", "--drop-existing",
                 "--dimensions", "metric_time__month", "--refresh", "6 hours")
    assert out.exit_code == 0, out.output
    creates = [s for s in out.output.split(";\n") if s.startswith("CREATE")]
    assert "skipped cumulative metric" in out.output
    assert any("`reporting`.`mv_revenue__by__metric_time__month` REFRESH ASYNC EVERY (INTERVAL 6 HOUR) AS SELECT" in s for s in creates)
    for statement in creates:
        assert isinstance(sqlglot.parse_one(statement, read="starrocks"), exp.Create)


def test_repl_on_the_duckdb_warehouse(tmp_path, monkeypatch):
    from sqlmesh import Context

    from seeknal_sqlmesh.translators import translate_project

    project = write_project(tmp_path / "p", {
        "orders.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"},
        "totals.yml": {"kind": "transform", "name": "totals", "inputs": [{"ref": "source.orders"}],
                       "transform": "SELECT customer_id, SUM(amount) AS total FROM input_0 GROUP BY 1"},
    }, files={"data/orders.csv": orders_csv()})
    out = tmp_path / "out"
    translate_project(project, out)
    monkeypatch.setenv("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")
    context = Context(paths=str(out))
    context.plan(auto_apply=True, no_prompts=True)
    context.close()
    done = invoke("repl", "-p", str(out), "--exec", "SELECT COUNT(*) AS n FROM transform.totals; SELECT COUNT(*) AS n FROM transform_totals")
    assert done.exit_code == 0, done.output
    assert done.output.count("| n ") == 2 and "1 row" in done.output
    failed = invoke("repl", "-p", str(out), "--exec", "SELECT * FROM nowhere")
    assert failed.exit_code == 2
    nodev = invoke("repl", "-p", str(out), "--env", "dev", "--exec", "SELECT 1")
    assert nodev.exit_code == 2 and "environment 'dev' has no models" in nodev.output


def test_repl_on_starrocks(starrocks, sql):  # noqa: F811
    sql("CREATE DATABASE IF NOT EXISTS reporting")
    sql("CREATE TABLE IF NOT EXISTS reporting.repl_t (id BIGINT, v DOUBLE)")
    done = invoke("repl", "-p", str(SAMPLE), "--connection", "reporting", "--exec", "SELECT COUNT(*) AS n FROM reporting.repl_t",
                  env=server_env(starrocks))
    assert done.exit_code == 0, done.output
    assert "| n |" in done.output.replace("  ", " ")
