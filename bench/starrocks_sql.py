"""StarRocks round trips: statements and bytes sent, seeknal-sqlmesh's adapter vs SQLMesh's built-in one.

Runs against the StarRocks-compatible test server (scripts/starrocks_test_server.py, venv from scripts/srtest-venv.sh):
1. each adapter operation SQLMesh repeats on every plan/run, with both adapters;
2. a full `plan` (prod) and a `run` of the translated sample project with ours, and the same plan with the built-in
   adapter (which stops at the first time-range model without a PRIMARY KEY).

    python bench/starrocks_sql.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path
from types import SimpleNamespace

import pymysql
from sqlglot import exp, parse_one

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class Meter:
    """Counts statements and bytes every pymysql cursor sends."""

    def __init__(self) -> None:
        self.statements = 0
        self.bytes = 0
        self._original = pymysql.cursors.Cursor.execute
        meter = self

        def execute(cursor, query, args=None):
            meter.statements += 1
            meter.bytes += len(query.encode() if isinstance(query, str) else query)
            return meter._original(cursor, query, args)

        pymysql.cursors.Cursor.execute = execute

    def take(self) -> t.Tuple[int, int]:
        out = (self.statements, self.bytes)
        self.statements = self.bytes = 0
        return out


def start_server() -> t.Tuple[subprocess.Popen, int]:
    python = subprocess.run(["bash", str(ROOT / "scripts/srtest-venv.sh")], capture_output=True, text=True, check=True).stdout.split()[-1]
    proc = subprocess.Popen([python, str(ROOT / "scripts/starrocks_test_server.py"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline().split()[1])


def operations(klass, settings, meter: Meter) -> t.Dict[str, t.Tuple[int, int]]:
    from sqlmesh.core.config.connection import StarRocksConnectionConfig
    from sqlmesh.core.node import IntervalUnit

    config = StarRocksConnectionConfig(**settings, concurrent_tasks=1)
    adapter = klass(config._connection_factory_with_kwargs, dialect="starrocks", default_catalog=None)
    db = f"bench_{klass.__name__.lower()[:6]}"
    cols = {"id": exp.DataType.build("BIGINT"), "dt": exp.DataType.build("DATE"), "v": exp.DataType.build("DOUBLE")}
    adapter.create_schema(db)
    adapter.create_table(f"{db}.full", cols)
    adapter.create_table(f"{db}.pk", cols, table_properties={"primary_key": exp.column("id")})
    meter.take()
    results = {}
    source = parse_one("SELECT 1 AS id, CAST('2024-01-02' AS DATE) AS dt, 2.0 AS v")
    adapter.replace_query(f"{db}.full", source, cols)
    results["FULL rebuild of an existing table"] = meter.take()
    model = SimpleNamespace(time_column=SimpleNamespace(column=exp.column("dt")), partitioned_by=[exp.column("dt")],
                            partition_interval_unit=IntervalUnit.DAY)
    adapter.insert_overwrite_by_time_partition(
        f"{db}.pk", source, "2024-01-02", "2024-01-02", time_formatter=lambda v, _: exp.cast(exp.Literal.string(str(v)[:10]), "DATE"),
        time_column="dt", target_columns_to_types=cols, snapshot=SimpleNamespace(is_model=True, model=model))
    results["time-range batch"] = meter.take()
    adapter.merge(f"{db}.pk", source, cols, unique_key=[exp.column("id")], physical_properties={"primary_key": exp.column("id")})
    results["unique-key upsert"] = meter.take()
    adapter.get_data_objects(db)
    results["list tables/views/MVs of a schema"] = meter.take()
    adapter.drop_schema(db, cascade=True)
    adapter.close()
    meter.take()
    return results


def plan_sample(settings, meter: Meter, builtin: bool) -> t.Tuple[str, int, int, float]:
    from sqlmesh import Context
    from sqlmesh.core.config import connection

    from seeknal_sqlmesh.starrocks.connection import SeeknalStarRocksConnectionConfig
    from seeknal_sqlmesh.translators import translate_project

    connection.CONNECTION_CONFIG_TO_TYPE["starrocks"] = connection.StarRocksConnectionConfig if builtin else SeeknalStarRocksConnectionConfig
    out = Path(tempfile.mkdtemp()) / "sample"
    translate_project(ROOT / "sample_project", out)
    con = pymysql.connect(autocommit=True, **settings)
    with con.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS finance")
        cur.execute("CREATE DATABASE finance")
        cur.execute("CREATE TABLE finance.monthly_targets (month DATE, country VARCHAR(2), revenue_target DECIMAL(18, 2)) DUPLICATE KEY (month)")
        for db in ("sqlmesh__source", "sqlmesh__transform", "source", "transform"):
            cur.execute(f"DROP DATABASE IF EXISTS {db}")
    meter.take()
    started = time.perf_counter()
    try:
        context = Context(paths=str(out), gateway="reporting")
        context.plan(auto_apply=True, no_prompts=True)
        outcome = "ok"
    except Exception as e:  # the built-in adapter refuses time-range models without a PRIMARY KEY
        outcome = f"failed: {str(e).splitlines()[0][:90]}"
    elapsed = time.perf_counter() - started
    statements, sent = meter.take()
    return outcome, statements, sent, elapsed


def main() -> None:
    from sqlmesh.core.engine_adapter.starrocks import StarRocksEngineAdapter

    from seeknal_sqlmesh.starrocks import register
    from seeknal_sqlmesh.starrocks.adapter import SeeknalStarRocksEngineAdapter

    register()  # what loading a project with a StarRocks gateway does (plugin.register_sqlmesh)

    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
    proc, port = start_server()
    settings = {"host": "127.0.0.1", "port": port, "user": "root", "password": ""}
    os.environ.update(STARROCKS_HOST="127.0.0.1", STARROCKS_PORT=str(port), SEEKNAL_SQLMESH_GATEWAYS="reporting")
    meter = Meter()
    try:
        ours = operations(SeeknalStarRocksEngineAdapter, settings, meter)
        builtin = operations(StarRocksEngineAdapter, settings, meter)
        print(f"{'operation':38} {'built-in':>18} {'seeknal':>18}")
        for name in ours:
            (bs, bb), (os_, ob) = builtin[name], ours[name]
            print(f"{name:38} {bs:>4} stmts {bb:>6} B {os_:>4} stmts {ob:>6} B")
        for label, use_builtin in (("seeknal", False), ("built-in", True)):
            outcome, statements, sent, elapsed = plan_sample(settings, meter, use_builtin)
            print(f"sample project prod plan, {label:9}: {statements:4} statements, {sent:7} bytes, {elapsed:5.1f} s ({outcome})")
    finally:
        proc.kill()


if __name__ == "__main__":
    main()
