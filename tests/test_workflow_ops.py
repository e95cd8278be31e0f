"""`seeknal render / audit / lineage / impact / invalidate / run / check-intervals / create-test / test / env /
janitor` end to end on a translated project whose prod is built once for the module."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import duckdb
import pytest
import sqlglot
import yaml
from sqlglot import exp
from sqlglot.lineage import lineage as sqlglot_lineage

from seeknal_sqlmesh.contract import Layout
from tests.test_workflow_project import EVENT_COLUMNS, seeknal, translated, write_shop

pytestmark = pytest.mark.slow


def warehouse(out: Path, sql: str) -> t.List[t.Tuple[t.Any, ...]]:
    with duckdb.connect(str(Layout.data_dir(out) / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop project translated and planned into prod; returns the translated folder."""
    root = write_shop(tmp_path_factory.mktemp("ops") / "shop")
    seeknal("apply", "-p", root)
    return translated(root)


def schemas(out: Path, like: str) -> int:
    return warehouse(out, f"SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE '{like}'")[0][0]


def rows_of(result: t.Any) -> t.List[t.Dict[str, t.Any]]:
    """The JSON rows a command printed on stdout (messages go to stderr)."""
    return json.loads(result.stdout)


# ---------------------------------------------------------------------- render, audit


def test_render_transpiles_the_node_sql_to_the_target_dialect(shop: Path):
    sql = seeknal("render", "transform.user_metrics", "-p", shop, "--target", "snowflake").output
    parsed = sqlglot.parse_one(sql, read="snowflake")
    assert [s.alias_or_name for s in parsed.selects] == ["user_id", "country", "events", "revenue"]
    source = parsed.find(exp.Table)
    assert source is not None and source.db == "sqlmesh__transform" and source.name.startswith("transform__enriched")
    bigquery = seeknal("render", "transform.user_metrics", "-p", shop, "--target", "bigquery").output
    assert "`user_id`" in bigquery and '"user_id"' not in bigquery  # quoted the BigQuery way, by sqlglot
    assert sqlglot.parse_one(bigquery, read="bigquery").find(exp.Table).name.startswith("transform__enriched")
    duck = seeknal("render", "transform.user_metrics", "-p", shop).output
    assert '"user_id"' in duck and "`" not in duck

    bad = seeknal("render", "transform.user_metric", "-p", shop, ok=False)
    assert bad.exit_code == 2 and "did you mean: transform.user_metrics" in bad.output
    exposure = seeknal("render", "exposure.metrics_csv", "-p", shop, ok=False)
    assert exposure.exit_code == 2 and "has no SQLMesh model" in exposure.output
    dialect = seeknal("render", "transform.user_metrics", "-p", shop, "--target", "snowflak", ok=False)
    assert dialect.exit_code == 2 and "did you mean: snowflake" in dialect.output


def test_audit_prints_results_and_fails_on_a_blocking_audit(shop: Path):
    rows = rows_of(seeknal("audit", "-p", shop, "--format", "json"))
    assert {(r["model"], r["audit"], r["status"]) for r in rows} == {
        ("transform.clean_events", "not_null", "pass"),
        ("transform.user_metrics", "not_null", "pass"),
    }
    # bad data in the table prod serves: the blocking not_null audit of clean_events fails
    table = warehouse(
        shop, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'transform__clean_events__%'"
    )
    physical = f"warehouse.sqlmesh__transform.{table[0][0]}"
    with duckdb.connect(str(Layout.data_dir(shop) / "warehouse.duckdb")) as con:
        con.execute(f"UPDATE {physical} SET event_id = NULL WHERE event_id = 3")
    try:
        result = seeknal("audit", "transform.clean_events", "-p", shop, ok=False)
        assert result.exit_code == 1
        assert "not_null on transform.clean_events" in result.output
        assert "fail" in result.output.split("not_null", 1)[1].splitlines()[0]
        assert seeknal("audit", "transform.user_metrics", "-p", shop).exit_code == 0
    finally:
        with duckdb.connect(str(Layout.data_dir(shop) / "warehouse.duckdb")) as con:
            con.execute(f"UPDATE {physical} SET event_id = 3 WHERE event_id IS NULL")


# ---------------------------------------------------------------------- lineage and impact


def hop(query: exp.Expr, column: str, schema: t.Dict[str, t.Any]) -> t.Set[t.Tuple[str, str]]:
    """sqlglot's own lineage of one output column: the (table, column) leaves."""
    node = sqlglot_lineage(column, sql=query.copy(), schema=schema, dialect="duckdb", trim_selects=False)
    leaves = set()
    for item in node.walk():
        table = item.expression.find(exp.Table) if not item.downstream else None
        if table is not None:
            leaves.add((f"{table.db}.{table.name}", exp.to_column(item.name).name))
    return leaves


def test_lineage_through_a_select_star_chain_matches_sqlglot(shop: Path, tmp_path: Path):
    from sqlmesh import Context

    graph = json.loads(seeknal("lineage", "transform.user_metrics.revenue", "-p", shop, "--format", "json").output)
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    assert edges == {
        ("transform.enriched_events.amount", "transform.user_metrics.revenue"),
        ("transform.enriched_events.event_type", "transform.user_metrics.revenue"),
        ("transform.clean_events.amount", "transform.enriched_events.amount"),
        ("transform.clean_events.event_type", "transform.enriched_events.event_type"),
        ("source.events.amount", "transform.clean_events.amount"),
        ("source.events.event_type", "transform.clean_events.event_type"),
    }

    # the same hops, computed by sqlglot on the queries SQLMesh renders, with the schemas written out by hand
    events = dict.fromkeys(EVENT_COLUMNS, "TEXT")
    schemas = {
        "transform.clean_events": {"warehouse": {"source": {"events": events}}},
        "transform.enriched_events": {
            "warehouse": {
                "transform": {"clean_events": events},
                "source": {"users": {"user_id": "TEXT", "country": "TEXT"}},
            }
        },
        "transform.user_metrics": {"warehouse": {"transform": {"enriched_events": {**events, "country": "TEXT"}}}},
    }
    ctx = Context(paths=str(shop), load=True)
    try:
        expected = set()
        frontier = [("transform.user_metrics", "revenue")]
        while frontier:
            model, column = frontier.pop()
            if model not in schemas:
                continue
            query = ctx.get_model(model).render_query()
            for parent, parent_col in hop(query, column, schemas[model]):
                expected.add((f"{parent}.{parent_col}", f"{model}.{column}"))
                frontier.append((parent, parent_col))
    finally:
        ctx.close()
    assert expected == edges

    tree = seeknal("lineage", "transform.user_metrics.revenue", "-p", shop).output
    assert tree.splitlines()[0] == "transform.user_metrics.revenue"
    assert "source.events.amount  [source column]" in tree and "source.events.event_type  [source column]" in tree

    page = tmp_path / "lineage.html"
    seeknal("lineage", "transform.user_metrics.revenue", "-p", shop, "--html", page)
    html = page.read_text()
    assert "<svg" in html and all(f'data-id="{node}"' in html for e in edges for node in e)
    assert not any(marker in html for marker in ("src=", "href=", "url(", "<link", "@import"))

    missing = seeknal("lineage", "transform.user_metrics.revenu", "-p", shop, ok=False)
    assert missing.exit_code == 2 and "did you mean: revenue" in missing.output


def test_impact_lists_downstream_columns_feature_groups_exposures_and_metrics(shop: Path):
    graph = json.loads(seeknal("impact", "source.events.event_type", "-p", shop, "--format", "json").output)
    nodes = {n["id"]: n for n in graph["nodes"]}
    columns = {i for i, n in nodes.items() if n["type"] == "column"}
    assert columns == {
        "source.events.event_type",
        "transform.clean_events.event_type",
        "transform.enriched_events.event_type",
        "transform.user_metrics.revenue",
        "feature_group.user_features.purchases",
        "feature_store.entity_user.user_features",
    }
    uses = {i: n["type"] for i, n in nodes.items() if n["type"] != "column"}
    assert uses == {
        "feature_group.user_features": "feature_group",
        "exposure.metrics_csv": "exposure",
        "semantic_model.events": "semantic_model",
        "metric.purchases": "metric",  # filters on the `kind` dimension, which is event_type
    }
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    assert ("transform.user_metrics.revenue", "exposure.metrics_csv") in edges
    assert ("semantic_model.events", "metric.purchases") in edges
    assert "dimension kind" in nodes["semantic_model.events"]["note"]

    # the amount feeds the other metric, and no feature
    amount = json.loads(seeknal("impact", "source.events.amount", "-p", shop, "--format", "json").output)
    ids = {n["id"] for n in amount["nodes"]}
    assert {"metric.revenue", "exposure.metrics_csv", "semantic_model.events"} <= ids
    assert not ids & {"metric.purchases", "feature_group.user_features"}

    tree = seeknal("impact", "source.events.event_type", "-p", shop).output
    assert "exposure.metrics_csv  [exposure]" in tree and "metric.purchases  [metric]" in tree


# ---------------------------------------------------------------------- intervals


def test_invalidate_makes_the_next_run_reprocess_the_intervals(shop: Path):
    def purchases(day: str) -> t.List[t.Tuple[t.Any, ...]]:
        return warehouse(
            shop,
            f"SELECT user_id, purchases FROM feature_group.user_features WHERE event_time = '{day}' ORDER BY user_id",
        )

    assert purchases("2026-01-02") == [("U2", 1)] and purchases("2026-01-03") == [("U1", 0), ("U3", 1)]
    nothing = seeknal("run", "-p", shop, "--format", "json")
    assert rows_of(nothing) == []

    seeknal_root = shop.parent.parent
    with (seeknal_root / "data" / "events.csv").open("a") as handle:
        handle.write("8,U2,purchase,1,2026-01-02\n9,U3,purchase,1,2026-01-03\n")
    day = ["--start", "2026-01-02", "--end", "2026-01-02"]
    invalidated = rows_of(seeknal("invalidate", "source.events", "-p", shop, *day, "--format", "json"))
    removed = {r["model"]: r["removed"] for r in invalidated}
    assert set(removed) == {
        "source.events",
        "transform.clean_events",
        "transform.enriched_events",
        "transform.user_metrics",
        "feature_group.user_features",
        "feature_store.entity_user",
    }
    assert removed["feature_group.user_features"] == "2026-01-02 - 2026-01-02"
    assert removed["source.events"].startswith("2000-01-01")  # a FULL model is rebuilt whole

    check = rows_of(seeknal("check-intervals", "feature_group.user_features", "-p", shop, "--format", "json"))
    assert [(r["model"], r["missing"]) for r in check] == [("feature_group.user_features", "2026-01-02 - 2026-01-02")]

    # the CSV changed too: --no-restate-changed keeps this run to the invalidated intervals (see test_workflow_sources)
    result = seeknal("run", "-p", shop, "--workers", "2", "--format", "json", "--no-restate-changed")
    assert "note:" not in result.stderr  # two workers on DuckDB: each thread has its own cursor (test_concurrency.py)
    ran = rows_of(result)
    processed = {r["model"]: r["intervals"] for r in ran}
    assert processed["feature_group.user_features"] == "2026-01-02 - 2026-01-02"
    assert processed["transform.clean_events"] == "full refresh"
    assert purchases("2026-01-02") == [("U2", 2)]  # reprocessed with the new row
    assert purchases("2026-01-03") == [("U1", 0), ("U3", 1)]  # not invalidated: kept as it was
    after = rows_of(seeknal("check-intervals", "-p", shop, "--format", "json"))
    assert all(r["missing_count"] == 0 for r in after) and len(after) == 7


# ---------------------------------------------------------------------- unit tests


def test_create_test_then_test_passes_and_fails_after_a_breaking_edit(shop: Path):
    tests_dir = shop / "tests"
    model = shop / "models" / "transform" / "clean_events.sql"
    original = model.read_text()
    try:
        assert "0 tests ran" in seeknal("test", "-p", shop).output
        out = seeknal("create-test", "transform.clean_events", "-p", shop, "--rows", "3").output
        path = tests_dir / "test_transform__clean_events.yaml"
        assert str(path) in out and path.is_file()
        test = yaml.safe_load(path.read_text())["test_transform__clean_events"]
        (inputs,) = test["inputs"].values()
        assert len(inputs) == 3 and test["outputs"]["query"] == inputs  # no input row is filtered out

        passed = seeknal("test", "-p", shop, "--format", "json")
        assert rows_of(passed) == [
            {"test": "test_transform__clean_events", "model": "transform.clean_events", "status": "pass", "detail": ""}
        ]
        assert "1 tests ran: 1 passed" in passed.stderr

        model.write_text(original.replace("NOT event_type IS NULL", "event_type = 'purchase'"))
        failed = seeknal("test", "-p", shop, ok=False)
        assert failed.exit_code == 1
        assert (
            "test_transform__clean_events" in failed.output
            and "fail" in failed.output
            and "Data mismatch" in failed.output
        )

        updated = seeknal("test", "-p", shop, "--update")
        assert f"Updated {path}" in updated.stderr and "1 tests ran: 1 passed" in updated.stderr
        test = yaml.safe_load(path.read_text())["test_transform__clean_events"]
        assert list(test["inputs"].values()) == [inputs]  # the inputs kept, the purchases expected
        assert test["outputs"]["query"] == [r for r in inputs if r["event_type"] == "purchase"]
    finally:
        model.write_text(original)
        for file in tests_dir.glob("*"):
            file.unlink()


# ---------------------------------------------------------------------- environments and janitor


def test_env_list_drop_and_janitor_dry_run(shop: Path):
    from seeknal_sqlmesh.workflow import open_workspace

    seeknal("apply", "dev", "-p", shop, "--include-unmodified")
    seeknal("apply", "scratch", "-p", shop, "--include-unmodified")
    envs = rows_of(seeknal("env", "list", "-p", shop, "--format", "json"))
    assert [e["environment"] for e in envs] == ["prod", "dev", "scratch"]
    assert all(e["models"] == 7 for e in envs)
    assert envs[0]["expires"] == "" and envs[1]["expires"] > envs[1]["finalized"]

    assert "Dropped environment 'scratch'" in seeknal("env", "drop", "scratch", "-p", shop).output
    assert schemas(shop, "%__scratch") == 0
    refused = seeknal("env", "drop", "prod", "-p", shop, ok=False)
    assert refused.exit_code == 2 and "prod cannot be dropped" in refused.output

    with open_workspace(shop) as ws:  # what `sqlmesh invalidate dev` does: dev expires now
        ws.context.invalidate_environment("dev")
    listed = rows_of(seeknal("janitor", "-p", shop, "--dry-run", "--format", "json"))
    dev = [r for r in listed if r["what"] == "environment"]
    assert [r["name"] for r in dev] == ["dev"] and "transform__dev.user_metrics" in dev[0]["objects"]
    # nothing was removed
    assert "dev" in [e["environment"] for e in rows_of(seeknal("env", "list", "-p", shop, "--format", "json"))]
    assert warehouse(shop, "SELECT count(*) FROM transform__dev.user_metrics")[0][0] > 0

    removed = rows_of(seeknal("janitor", "-p", shop, "--format", "json"))
    assert ("environment", "dev") in {(r["what"], r["name"]) for r in removed}
    assert [e["environment"] for e in rows_of(seeknal("env", "list", "-p", shop, "--format", "json"))] == ["prod"]
    assert schemas(shop, "%__dev") == 0


def test_janitor_removes_exports_of_gone_environments_and_leftover_folders(shop: Path):
    seeknal_project = shop.parent.parent
    prod_export = seeknal_project / "target" / "exports" / "user_metrics.csv"
    seeknal("apply", "side", "-p", shop, "--include-unmodified")
    side_export = Layout.data_dir(shop) / "exports" / "side" / "user_metrics.csv"
    assert side_export.is_file() and prod_export.is_file()
    assert sorted(p.name for p in prod_export.parent.iterdir()) == ["user_metrics.csv"]  # nothing of side's there
    legacy = prod_export.with_name("user_metrics__old.csv")  # what earlier versions wrote for an environment 'old'
    legacy.write_text("stale")
    leftover = shop.parent / ".sqlmesh.new-abc123"  # what a killed translation left
    (leftover / "models").mkdir(parents=True)

    listed = rows_of(seeknal("janitor", "-p", shop, "--dry-run", "--format", "json"))
    assert ("export", "side") not in {(r["what"], r["name"]) for r in listed}  # 'side' still exists
    seeknal("env", "drop", "side", "-p", shop)
    listed = rows_of(seeknal("janitor", "-p", shop, "--dry-run", "--format", "json"))
    assert {(r["what"], r["name"]) for r in listed} >= {
        ("export", "side"), ("export", "old"), ("temporary folder", ".sqlmesh.new-abc123")
    }
    assert side_export.is_file() and legacy.is_file() and leftover.is_dir()  # --dry-run removes nothing

    removed = rows_of(seeknal("janitor", "-p", shop, "--format", "json"))
    assert {("export", "side"), ("export", "old"), ("temporary folder", ".sqlmesh.new-abc123")} <= {
        (r["what"], r["name"]) for r in removed
    }
    assert not side_export.parent.exists() and not legacy.exists() and not leftover.exists()
    assert prod_export.is_file()  # prod's export is the exposure's own file: never the janitor's
