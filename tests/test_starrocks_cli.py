"""`seeknal starrocks setup-catalog`, `seeknal deploy-metrics`, `seeknal repl`: output, errors for people (exit 2;
1 for statements that ran and failed), `-p` taking a Seeknal project or its translation, no secret in anything
printed. Runs against the StarRocks-compatible test server (tests/test_starrocks_integration.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from click.testing import CliRunner
from sqlglot import exp

from seeknal_sqlmesh.cli import cli
from tests.helpers import orders_csv, write_project
from tests.test_starrocks_integration import sql, srtest_python, starrocks  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"
TOTALS = "SELECT customer_id, SUM(amount) AS total FROM input_0 GROUP BY 1"


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


@pytest.fixture(scope="module")
def translated_sample(tmp_path_factory) -> Path:
    from seeknal_sqlmesh.translators import translate_project

    out = tmp_path_factory.mktemp("sample") / "out"
    translate_project(SAMPLE, out)
    return out


def test_deploy_metrics_dry_run_uses_the_semantic_layer(translated_sample):
    args = ["deploy-metrics", "--connection", "reporting", "--dry-run", "--drop-existing", "--dimensions", "metric_time__month",
            "--refresh", "6 hours"]
    out = invoke(*args, "-p", str(SAMPLE))
    assert out.exit_code == 0, out.output
    # -p takes the translated project too: profiles.yml and the semantic YAML come from its Seeknal project
    assert invoke(*args, "-p", str(translated_sample)).output == out.output
    creates = [s for s in out.output.split(";\n") if s.startswith("CREATE")]
    assert "skipped cumulative metric" in out.output
    assert any("`reporting`.`mv_revenue__by__metric_time__month` REFRESH ASYNC EVERY (INTERVAL 6 HOUR) AS SELECT" in s for s in creates)
    for statement in creates:
        assert isinstance(sqlglot.parse_one(statement, read="starrocks"), exp.Create)


def test_deploy_metrics_settings_and_lists():
    out = invoke("deploy-metrics", "--connection", "reporting", "-p", str(SAMPLE), "--dry-run", "--metric", "revenue,order_count",
                 "--dimensions", "metric_time__month", "--partition-by", "metric_time__month", "--distributed-by",
                 "metric_time__month", "--buckets", "4", "--order-by", "metric_time__month", "--property", "replication_num=1")
    assert out.exit_code == 0, out.output
    creates = [s for s in out.output.split(";\n") if s.startswith("CREATE")]
    assert [sqlglot.parse_one(s, read="starrocks").this.name for s in creates] == \
        ["mv_revenue__by__metric_time__month", "mv_order_count__by__metric_time__month"]
    for statement in creates:
        assert ("PARTITION BY (`metric_time__month`) DISTRIBUTED BY HASH (`metric_time__month`) BUCKETS 4 "
                "REFRESH ASYNC EVERY (INTERVAL 1 DAY) ORDER BY (`metric_time__month`) PROPERTIES ('replication_num'='1') AS SELECT") in statement
    bad = invoke("deploy-metrics", "--connection", "reporting", "-p", str(SAMPLE), "--dry-run", "--property", "replication_num")
    assert bad.exit_code == 2 and "--property 'replication_num' is not key=value" in bad.output


def test_the_seeknal_project_must_be_known_for_profiles(translated_sample, tmp_path):
    moved = tmp_path / "moved"
    shutil.copytree(translated_sample, moved)
    manifest = moved / "seeknal" / "manifest.json"  # as if the Seeknal project had moved away
    manifest.write_text(manifest.read_text().replace(f'"seeknal_project": "{json.loads(manifest.read_text())["seeknal_project"]}"',
                                                     '"seeknal_project": "../gone"'))
    out = invoke("starrocks", "setup-catalog", "--connection", "reporting", "-p", str(moved))
    assert out.exit_code == 2 and "profiles.yml is read from the Seeknal project" in out.output
    assert "pass the Seeknal project with -p, or profiles.yml with --profile" in out.output
    given = invoke("starrocks", "setup-catalog", "--connection", "reporting", "-p", str(moved), "--profile", str(SAMPLE / "profiles.yml"))
    assert given.exit_code == 0, given.output
    assert given.output.startswith("CREATE EXTERNAL CATALOG IF NOT EXISTS `lakehouse`")


def planned_project(tmp_path: Path, monkeypatch, suffix_target: str = "") -> Path:
    """A Seeknal project translated into its default output (so -p takes either), planned in prod."""
    from sqlmesh import Context

    from seeknal_sqlmesh.translators import translate_project

    project = write_project(tmp_path / "p", {
        "orders.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"},
        "totals.yml": {"kind": "transform", "name": "totals", "inputs": [{"ref": "source.orders"}], "transform": TOTALS},
    }, files={"data/orders.csv": orders_csv()})
    out = project / "target" / "sqlmesh"
    translate_project(project, out)
    if suffix_target:
        with (out / "settings.yaml").open("a") as f:
            f.write(f"environment_suffix_target: {suffix_target}\n")
    monkeypatch.setenv("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")
    context = Context(paths=str(out))
    context.plan(auto_apply=True, no_prompts=True)
    context.close()
    return out


def csv_result(*args: str) -> pd.DataFrame:
    import io

    done = invoke("repl", *args, "--format", "csv")
    assert done.exit_code == 0, done.output
    return pd.read_csv(io.StringIO(done.stdout))


def test_repl_on_the_duckdb_warehouse(tmp_path, monkeypatch):
    out = planned_project(tmp_path, monkeypatch)
    done = invoke("repl", "-p", str(out), "--exec", "SELECT COUNT(*) AS n FROM transform.totals; SELECT COUNT(*) AS n FROM transform_totals")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert [line.strip() for line in lines] == ["n", "2", "1 row", "n", "2", "1 row"]  # a table per result, then its count
    # -p takes the Seeknal project as well (its translation in target/sqlmesh)
    assert invoke("repl", "-p", str(out.parents[1]), "--exec", "SELECT COUNT(*) AS n FROM transform.totals").output == "\n".join(lines[:3]) + "\n"
    failed = invoke("repl", "-p", str(out), "--exec", "SELECT * FROM nowhere; SELECT 1 AS one")
    assert failed.exit_code == 1  # statements that ran and failed: a failed check, not a usage error
    assert "Table with name nowhere does not exist" in failed.output and "1 of 2 statements failed" in failed.output
    assert "one" in failed.output  # the next statement still ran
    nodev = invoke("repl", "-p", str(out), "--env", "dev", "--exec", "SELECT 1")
    assert nodev.exit_code == 2 and "SQLMesh environment 'dev' does not exist (environments: prod)" in nodev.output
    untranslated = write_project(tmp_path / "new", {})
    never = invoke("repl", "-p", str(untranslated), "--exec", "SELECT 1")
    assert never.exit_code == 2 and "has not been translated yet" in never.output


def test_repl_reads_environments_through_sqlmesh_state(tmp_path, monkeypatch):
    """Names point where SQLMesh's state says: with `environment_suffix_target: table` the dev view of
    transform.totals is transform.totals__dev (no transform__dev schema exists)."""
    from sqlmesh import Context

    out = planned_project(tmp_path, monkeypatch, suffix_target="table")
    model = out / "models" / "transform" / "totals.sql"
    model.write_text(model.read_text().replace("SUM(amount) AS total", "SUM(amount) * 10 AS total"))
    context = Context(paths=str(out))
    context.plan("dev", auto_apply=True, no_prompts=True)
    context.close()
    query = "SELECT customer_id, total FROM transform.totals ORDER BY 1"
    assert csv_result("-p", str(out), "--exec", query)["total"].tolist() == [30, 5]
    assert csv_result("-p", str(out), "--env", "dev", "--exec", query)["total"].tolist() == [300, 50]
    assert csv_result("-p", str(out), "--env", "dev", "--exec", "SELECT total FROM transform_totals ORDER BY 1")["total"].tolist() == [50, 300]


def test_repl_writes_typed_files(tmp_path, monkeypatch):
    out = planned_project(tmp_path, monkeypatch)
    query = ("SELECT customer_id, CAST(total AS BIGINT) AS total, total / 4 AS quarter, DATE '2024-01-02' AS day, "
             "total > 10 AS big FROM transform.totals ORDER BY 1")
    target = tmp_path / "f.csv"
    done = invoke("repl", "-p", str(out), "--exec", query, "--format", "csv", "-o", str(target))
    assert done.exit_code == 0, done.output
    assert "wrote 2 rows" in done.output
    frame = pd.read_csv(target, parse_dates=["day"])
    assert frame.to_dict("list") == {"customer_id": ["C1", "C2"], "total": [30, 5], "quarter": [7.5, 1.25],
                                     "day": [pd.Timestamp("2024-01-02")] * 2, "big": [True, False]}
    assert [str(t) for t in frame.dtypes] == ["object", "int64", "float64", "datetime64[ns]", "bool"]
    parquet = tmp_path / "f.parquet"
    assert invoke("repl", "-p", str(out), "--exec", query, "-o", str(parquet)).exit_code == 0
    import pyarrow.parquet as pq

    assert str(pq.read_schema(parquet).field("day").type) == "date32[day]"  # Parquet keeps the engine's types
    two = invoke("repl", "-p", str(out), "--exec", "SELECT 1 AS a; SELECT 2 AS b", "-o", str(tmp_path / "two.csv"))
    assert two.exit_code == 2 and "takes the result of one query; 2 statements returned rows" in two.output
    assert not (tmp_path / "two.csv").exists()
    typo = invoke("repl", "-p", str(out), "--exec", "SELECT 1", "-o", str(tmp_path / "f.xlsx"))
    assert typo.exit_code == 2 and "cannot tell the format" in typo.output


def test_repl_on_starrocks(starrocks, sql):  # noqa: F811
    sql("CREATE DATABASE IF NOT EXISTS reporting")
    sql("CREATE TABLE IF NOT EXISTS reporting.repl_t (id BIGINT, v DOUBLE)")
    done = invoke("repl", "-p", str(SAMPLE), "--connection", "reporting", "--format", "csv",
                  "--exec", "SELECT COUNT(*) AS n, CAST('2024-01-02' AS DATE) AS d FROM reporting.repl_t", env=server_env(starrocks))
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == ["n,d", "0,2024-01-02"]
