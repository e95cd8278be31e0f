"""`seeknal plan / apply / promote` end to end on a Seeknal project: in-process translation, a dev environment that
leaves prod untouched, a promotion that recomputes nothing, restatement, and the stock `sqlmesh` CLI on the same
state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import duckdb
import pytest

from seeknal_sqlmesh.contract import Layout
from tests.test_workflow_project import seeknal, translated, write_shop

pytestmark = pytest.mark.slow


def query(path: Path, sql: str) -> t.List[t.Tuple[t.Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def warehouse(root: Path, sql: str) -> t.List[t.Tuple[t.Any, ...]]:
    return query(Layout.data_dir(translated(root)) / "warehouse.duckdb", sql)


def intervals(root: Path) -> int:
    return query(Layout.data_dir(translated(root)) / "state.duckdb", "SELECT count(*) FROM sqlmesh._intervals")[0][0]


def environment_snapshots(root: Path) -> t.Dict[str, t.Set[str]]:
    rows = query(Layout.data_dir(translated(root)) / "state.duckdb", "SELECT name, snapshots FROM sqlmesh._environments")
    return {
        name: {f"{s['name']}@{json.dumps(s['fingerprint'], sort_keys=True)}" for s in json.loads(snaps)}
        for name, snaps in rows
    }


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_shop(tmp_path_factory.mktemp("plan") / "shop")


def test_plan_translates_shows_and_applies_nothing_without_auto_apply(shop: Path):
    out = seeknal("plan", "-p", shop).output
    assert "files changed" in out  # translated in-process: the project had no translation yet
    assert (translated(shop) / "models" / "transform" / "user_metrics.sql").is_file()
    assert "transform.user_metrics" in out and "added" in out and "full refresh" in out
    assert "Not applied" in out
    assert not (Layout.data_dir(translated(shop)) / "state.duckdb").exists() or not environment_snapshots(shop)


def test_dev_leaves_prod_untouched_then_promote_recomputes_nothing(shop: Path):
    seeknal("apply", "-p", shop)
    prod_rows = warehouse(shop, "SELECT * FROM transform.user_metrics ORDER BY user_id")
    prod_columns = [r[0] for r in warehouse(shop, "DESCRIBE transform.user_metrics")]
    prod_before = environment_snapshots(shop)["prod"]
    assert prod_columns == ["user_id", "country", "events", "revenue"] and len(prod_rows) == 3

    # a change in the Seeknal project, planned into dev
    spec = shop / "seeknal" / "transforms" / "user_metrics.yml"
    spec.write_text(spec.read_text().replace("COUNT(*) AS events,", "COUNT(*) AS events, MAX(amount) AS max_amount,"))
    out = seeknal("plan", "dev", "-p", shop, "--auto-apply").output
    assert "files changed" in out and "Applied to 'dev'" in out
    dev_columns = [r[0] for r in warehouse(shop, "DESCRIBE transform__dev.user_metrics")]
    assert dev_columns == ["user_id", "country", "events", "max_amount", "revenue"]
    assert warehouse(shop, "SELECT max_amount FROM transform__dev.user_metrics WHERE user_id = 'U2'") == [(20.0,)]
    # prod: same snapshots, same columns, same rows
    assert environment_snapshots(shop)["prod"] == prod_before
    assert [r[0] for r in warehouse(shop, "DESCRIBE transform.user_metrics")] == prod_columns
    assert warehouse(shop, "SELECT * FROM transform.user_metrics ORDER BY user_id") == prod_rows
    # the unchanged parent is shared with prod (one physical table), only the changed model has a new one
    tables = warehouse(
        shop, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sqlmesh__transform'"
    )
    assert sum(1 for (name,) in tables if name.startswith("transform__user_metrics__")) == 2
    assert sum(1 for (name,) in tables if name.startswith("transform__enriched_events__")) == 1

    # promote: prod points at dev's snapshots; no interval is computed, no table is created
    computed = intervals(shop)
    tables_before = warehouse(shop, "SELECT count(*) FROM information_schema.tables")
    out = seeknal("promote", "dev", "-p", shop).output
    assert intervals(shop) == computed
    assert warehouse(shop, "SELECT count(*) FROM information_schema.tables") == tables_before
    assert "nothing recomputed" in out
    snapshots = environment_snapshots(shop)
    assert snapshots["prod"] == snapshots["dev"] != prod_before
    assert warehouse(shop, "SELECT max_amount FROM transform.user_metrics WHERE user_id = 'U2'") == [(20.0,)]
    assert "prod already serves" in seeknal("promote", "dev", "-p", shop).output

    # the stock SQLMesh CLI reads the same state: the files are what prod serves now
    env = {**os.environ, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"}
    stock = subprocess.run(
        [sys.executable, "-c", "from sqlmesh.cli.main import cli; cli()", "-p", str(translated(shop)), "plan"],
        capture_output=True,
        text=True,
        env=env,
        input="n\n",
    )
    assert "No changes to plan" in stock.stdout, stock.stdout + stock.stderr


def test_promote_refuses_an_environment_that_misses_intervals(shop: Path):
    from seeknal_sqlmesh.workflow import open_workspace
    from seeknal_sqlmesh.workflow.intervals import invalidate

    model = translated(shop) / "models" / "transform" / "user_metrics.sql"
    original = model.read_text()
    model.write_text(original.replace("COUNT(*) AS events,", "COUNT(*) AS events, 1 AS one,"))
    try:
        seeknal("apply", "qa", "-p", translated(shop))  # qa's user_metrics is its own table
        with open_workspace(translated(shop)) as ws:
            removed = invalidate(ws, "transform.user_metrics", start="2026-01-01", environment="qa")
        assert [r.model for r in removed] == ["transform.user_metrics"]
        computed = intervals(shop)
        result = seeknal("promote", "qa", "-p", shop, ok=False)
        assert result.exit_code == 1
        assert "not fully computed" in result.output and "transform.user_metrics" in result.output
        assert intervals(shop) == computed
        assert "one" not in [r[0] for r in warehouse(shop, "DESCRIBE transform.user_metrics")]
        seeknal("env", "drop", "qa", "-p", shop)
    finally:
        model.write_text(original)


def test_restate_recomputes_a_node_and_its_downstream(shop: Path):
    before = warehouse(shop, "SELECT count(*) FROM transform.enriched_events")[0][0]
    with (shop / "data" / "events.csv").open("a") as handle:
        handle.write("7,U3,purchase,7,2026-01-03\n")
    # the file changed, the models did not: a plain plan has nothing to do
    assert "No changes to plan" in seeknal("apply", "-p", shop).output
    assert warehouse(shop, "SELECT count(*) FROM transform.enriched_events")[0][0] == before
    out = seeknal("apply", "-p", shop, "--restate", "source.events").output
    assert "Applied to 'prod'" in out
    assert warehouse(shop, "SELECT count(*) FROM transform.enriched_events")[0][0] == before + 1
    assert warehouse(shop, "SELECT revenue FROM transform.user_metrics WHERE user_id = 'U3'") == [(12.0,)]


def test_unknown_nodes_get_a_suggestion(shop: Path):
    result = seeknal("apply", "-p", shop, "--restate", "source.event", ok=False)
    assert result.exit_code == 2
    assert "unknown node 'source.event'" in result.output and "did you mean: source.events" in result.output
    result = seeknal("run", "-p", translated(shop), "--select", "transform.user_metric+", ok=False)
    assert result.exit_code == 2 and "did you mean: transform.user_metrics" in result.output
    result = seeknal("promote", "nope", "-p", shop, ok=False)
    assert result.exit_code == 2 and "environment 'nope' does not exist" in result.output
