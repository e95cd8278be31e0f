"""Tier 3: SQLMesh through seeknal-sqlmesh's StarRocks adapter over the MySQL protocol.

Offline (default): scripts/starrocks_test_server.py (mysql-mimic + sqlglot + DuckDB, in its own venv made by
scripts/srtest-venv.sh) is started on a free loopback port; it refuses what StarRocks documents it refuses (its
RULES, each with a source). With `STARROCKS_HOST` set, `-m starrocks_live` runs the same tests on a real cluster
(STARROCKS_PORT, STARROCKS_USER, STARROCKS_PASSWORD; the account needs CREATE DATABASE).
"""

from __future__ import annotations

import os
import subprocess
import time
import typing as t
import uuid
from pathlib import Path

import pymysql
import pytest

from seeknal_sqlmesh.demo import sqlmesh_executable

ROOT = Path(__file__).resolve().parents[1]
LIVE = bool(os.environ.get("STARROCKS_HOST"))
pytestmark = [pytest.mark.starrocks_live] if LIVE else []


@pytest.fixture(scope="session")
def srtest_python() -> str:
    """The test server's interpreter (creates .venvs/srtest on first use: about 25 s on a clean machine)."""
    out = subprocess.run(["bash", str(ROOT / "scripts/srtest-venv.sh")], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        pytest.fail(f"scripts/srtest-venv.sh failed:\n{out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def starrocks(srtest_python) -> t.Iterator[t.Dict[str, t.Any]]:
    """Connection settings of a real cluster (STARROCKS_HOST) or of a test server started for this session."""
    if LIVE:
        yield {"host": os.environ["STARROCKS_HOST"], "port": int(os.environ.get("STARROCKS_PORT", "9030")),
               "user": os.environ.get("STARROCKS_USER", "root"), "password": os.environ.get("STARROCKS_PASSWORD", "")}
        return
    proc = subprocess.Popen([srtest_python, str(ROOT / "scripts/starrocks_test_server.py"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("READY"):
            pytest.fail(f"test server did not start: {line} {proc.stderr.read()[-2000:]}")
        settings = {"host": "127.0.0.1", "port": int(line.split()[1]), "user": "root", "password": ""}
        deadline = time.time() + 10
        while True:
            try:
                pymysql.connect(**settings).close()
                break
            except pymysql.err.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        yield settings
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture()
def sql(starrocks):
    con = pymysql.connect(autocommit=True, **starrocks)

    def run(statement: str) -> t.List[tuple]:
        with con.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall())

    yield run
    con.close()


def refused(sql, statement: str, *codes: int) -> str:
    with pytest.raises(pymysql.err.MySQLError) as info:
        sql(statement)
    if codes:
        assert info.value.args[0] in codes, info.value
    return str(info.value)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------------------------------ the rules
@pytest.mark.skipif(LIVE, reason="checks the test server's emulation of StarRocks' rules; a real cluster is the rule")
def test_server_enforces_documented_rules(sql):
    db = unique("rules")
    sql(f"CREATE DATABASE {db}")
    sql(f"CREATE TABLE {db}.dup (id BIGINT, dt DATE, v DOUBLE) DUPLICATE KEY (id) PARTITION BY date_trunc('day', dt)")
    assert "key-prefix" in refused(sql, f"CREATE TABLE {db}.bad (v DOUBLE, id BIGINT) PRIMARY KEY (id)")
    assert "delete-where" in refused(sql, f"DELETE FROM {db}.dup")
    assert "delete-simple" in refused(sql, f"DELETE FROM {db}.dup WHERE dt BETWEEN '2024-01-01' AND '2024-01-02'")
    assert "delete-simple" in refused(sql, f"DELETE FROM {db}.dup WHERE id IN (SELECT id FROM {db}.dup)")
    assert "no-merge" in refused(sql, f"MERGE INTO {db}.dup USING {db}.dup AS s ON dup.id = s.id WHEN MATCHED THEN DELETE")
    sql(f"CREATE TABLE {db}.pk (id BIGINT, v DOUBLE) PRIMARY KEY (id)")
    sql(f"INSERT INTO {db}.pk VALUES (1, 1.0), (2, 2.0)")
    sql(f"INSERT INTO {db}.pk VALUES (1, 10.0)")  # upsert
    assert sql(f"SELECT id, v FROM {db}.pk ORDER BY id") == [(1, 10.0), (2, 2.0)]
    sql(f"DELETE FROM {db}.pk WHERE id IN (SELECT id FROM {db}.pk WHERE v > 5)")  # PK tables take any DELETE
    sql("BEGIN")
    assert "txn-ddl" in refused(sql, f"CREATE TABLE {db}.x (a INT)", 5305)
    sql("ROLLBACK")
    sql(f"INSERT INTO {db}.dup VALUES (1, '2024-01-01', 1.0)")
    sql(f"CREATE MATERIALIZED VIEW {db}.mv REFRESH DEFERRED MANUAL AS SELECT dt, SUM(v) AS v FROM {db}.dup GROUP BY dt")
    assert sql(f"SELECT * FROM {db}.mv") == []  # stale until refreshed
    sql(f"REFRESH MATERIALIZED VIEW {db}.mv WITH SYNC MODE")
    assert len(sql(f"SELECT * FROM {db}.mv")) == 1
    assert "no-insert-mv" in refused(sql, f"INSERT INTO {db}.mv VALUES ('2024-01-02', 1.0)")
    sql(f"ALTER TABLE {db}.dup RENAME dup2")  # the base table goes away: the MV is inactive
    assert "mv-inactive" in refused(sql, f"REFRESH MATERIALIZED VIEW {db}.mv")
    assert "rename" in refused(sql, f"ALTER TABLE {db}.dup2 RENAME {db}.dup3")
    assert "mv-refresh-required" in refused(sql, f"CREATE MATERIALIZED VIEW {db}.mv2 AS SELECT 1 AS a")


# ------------------------------------------------------------------------------------------------ adapter operations
def adapter_for(settings):
    from seeknal_sqlmesh.starrocks.connection import SeeknalStarRocksConnectionConfig

    return SeeknalStarRocksConnectionConfig(**settings, concurrent_tasks=1).create_engine_adapter()


def test_adapter_operations_over_the_wire(starrocks, sql):
    from sqlglot import exp, parse_one

    db = unique("ops")
    adapter = adapter_for(starrocks)
    cols = {"id": exp.DataType.build("BIGINT"), "dt": exp.DataType.build("DATE"), "v": exp.DataType.build("DOUBLE")}
    adapter.create_schema(db)
    adapter.create_table(f"{db}.t", cols, partitioned_by=[exp.column("dt")])
    sql(f"INSERT INTO {db}.t VALUES (1, '2024-01-01', 1.0), (2, '2024-01-02', 2.0), (3, '2024-01-03', 3.0)")
    # FULL rebuild: one INSERT OVERWRITE
    adapter.replace_query(f"{db}.t", parse_one(f"SELECT id, dt, v * 10 AS v FROM {db}.t"), cols)
    assert sorted(sql(f"SELECT id, v FROM {db}.t")) == [(1, 10.0), (2, 20.0), (3, 30.0)]
    # time range: only the partitions of 2024-01-02 are replaced
    from types import SimpleNamespace

    from sqlmesh.core.node import IntervalUnit

    model = SimpleNamespace(time_column=SimpleNamespace(column=exp.column("dt")), partitioned_by=[exp.column("dt")],
                            partition_interval_unit=IntervalUnit.DAY)
    adapter.insert_overwrite_by_time_partition(
        f"{db}.t", parse_one("SELECT 9 AS id, CAST('2024-01-02' AS DATE) AS dt, 99.0 AS v"), "2024-01-02", "2024-01-02",
        time_formatter=lambda value, _types: exp.cast(exp.Literal.string(str(value)[:10]), "DATE"), time_column="dt",
        target_columns_to_types=cols, snapshot=SimpleNamespace(is_model=True, model=model),
    )
    assert sorted(sql(f"SELECT id, v FROM {db}.t")) == [(1, 10.0), (3, 30.0), (9, 99.0)]
    assert set(adapter.columns(f"{db}.t")) == {"id", "dt", "v"}
    assert adapter.table_exists(f"{db}.t") and not adapter.table_exists(f"{db}.missing")
    adapter.create_view(f"{db}.mv", parse_one(f"SELECT dt, SUM(v) AS v FROM {db}.t GROUP BY dt"), materialized=True,
                        view_properties={"refresh_moment": exp.Literal.string("DEFERRED"), "refresh_scheme": exp.Literal.string("MANUAL")})
    adapter.refresh_materialized_view(f"{db}.mv")
    kinds = {o.name: o.type.value for o in adapter.get_data_objects(db)}
    assert kinds == {"t": "table", "mv": "materialized_view"}
    adapter.drop_view(f"{db}.mv", materialized=True)
    adapter.drop_schema(db, cascade=True)
    adapter.close()


def test_external_catalog_tables(starrocks, sql):
    """`catalog.db.table` of an external catalog: existence, columns and listing (create_external_models)."""
    if LIVE:
        pytest.skip("needs an Iceberg catalog on the cluster: run `seeknal starrocks setup-catalog --execute` first")
    catalog = unique("ice")
    sql(f"CREATE EXTERNAL CATALOG {catalog} PROPERTIES ('type'='iceberg', 'iceberg.catalog.type'='rest', 'iceberg.catalog.uri'='http://x')")
    sql(f"CREATE DATABASE {catalog}.web")
    sql(f"CREATE TABLE {catalog}.web.events (id BIGINT, ts DATETIME, url VARCHAR(200))")
    adapter = adapter_for(starrocks)
    assert adapter.table_exists(f"{catalog}.web.events")
    assert not adapter.table_exists(f"{catalog}.web.nope")
    assert {k: v.sql("starrocks") for k, v in adapter.columns(f"{catalog}.web.events").items()} == {
        "id": "BIGINT", "ts": "DATETIME", "url": "VARCHAR(65533)"}
    assert [o.name for o in adapter.get_data_objects(f"{catalog}.web")] == ["events"]
    adapter.close()


# ------------------------------------------------------------------------------------------------ the sample project
def sqlmesh_env(settings) -> t.Dict[str, str]:
    return {**os.environ, "STARROCKS_HOST": settings["host"], "STARROCKS_PORT": str(settings["port"]),
            "STARROCKS_USER": settings["user"], "STARROCKS_PASSWORD": settings["password"],
            "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"}


@pytest.mark.slow
@pytest.mark.skipif(LIVE, reason="the sample project's file sources are read with DuckDB table functions, which only the test server has")
def test_sample_project_plans_on_starrocks(starrocks, sql, tmp_path, monkeypatch):
    """The translated sample project, every model on the StarRocks gateway: prod with the stock `sqlmesh` CLI (no
    wrapper), then a dev environment with a changed model and an incremental run, through the Python API."""
    from seeknal_sqlmesh.translators import translate_project

    out = tmp_path / "sample"
    translate_project(ROOT / "sample_project", out)
    sql("CREATE DATABASE IF NOT EXISTS finance")
    sql("CREATE TABLE IF NOT EXISTS finance.monthly_targets (month DATE, country VARCHAR(2), revenue_target DECIMAL(18, 2)) DUPLICATE KEY (month)")
    sql("INSERT INTO finance.monthly_targets VALUES ('2024-01-01', 'US', 1000.00), ('2024-02-01', 'DE', 500.00)")
    env = sqlmesh_env(starrocks)
    done = subprocess.run([sqlmesh_executable(), "-p", str(out), "--gateway", "reporting", "plan", "--auto-apply"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Virtual layer updated" in done.stdout
    # prod views are on StarRocks, the MV (exposure) was refreshed by the plan
    assert sql("SELECT COUNT(*) FROM transform.daily_sales")[0][0] > 0
    assert sql("SELECT COUNT(*) FROM exposure.finance_revenue_mv")[0][0] == sql(
        "SELECT COUNT(*) FROM (SELECT DISTINCT order_date, country FROM transform.daily_sales) AS d")[0][0]
    assert sql("SELECT COUNT(*) FROM transform.revenue_vs_target")[0][0] == 2

    # deploy-metrics: one async MV per metric from the semantic layer, reading the prod views just built
    from click.testing import CliRunner

    from seeknal_sqlmesh.cli import cli

    sql("CREATE DATABASE IF NOT EXISTS reporting")
    deployed = CliRunner().invoke(cli, ["deploy-metrics", "--connection", "reporting", "-p", str(ROOT / "sample_project"),
                                        "--metric", "revenue", "--dimensions", "metric_time__month", "--drop-existing"], env=env)
    assert deployed.exit_code == 0, deployed.output
    months = sql("SELECT COUNT(*) FROM reporting.mv_revenue__by__metric_time__month")[0][0]
    assert months == sql("SELECT COUNT(DISTINCT DATE_TRUNC('month', order_ts)) FROM transform.orders_enriched")[0][0] > 0

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SEEKNAL_SQLMESH_GATEWAYS", "reporting")  # in-process there is no `--gateway` in sys.argv
    from sqlmesh import Context

    # dev: change one transform; only it and its downstream are rebuilt, prod is untouched
    model = out / "models/transform/daily_sales.sql"
    model.write_text(model.read_text().replace("SELECT", "SELECT 1 AS dev_marker,", 1))
    context = Context(paths=str(out), gateway="reporting")
    plan = context.plan("dev", auto_apply=True, no_prompts=True, skip_tests=True)
    rebuilt = {s.name for s in plan.new_snapshots}
    assert '"transform"."daily_sales"' in rebuilt and '"transform"."orders_clean"' not in rebuilt
    assert sql("SELECT MAX(dev_marker) FROM transform__dev.daily_sales")[0][0] == 1
    assert "dev_marker" not in [r[0] for r in sql("DESCRIBE transform.daily_sales")]
    # incremental run a day later: only the new interval of each time-range model is processed
    before = sql("SELECT COUNT(*) FROM transform.daily_sales")[0][0]
    context.run("prod", execution_time="2026-12-31", skip_janitor=True)
    assert sql("SELECT COUNT(*) FROM transform.daily_sales")[0][0] >= before
    context.close()
