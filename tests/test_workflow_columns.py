"""Lineage you can trust: sources declare their file's columns (so lineage goes through `SELECT *` without a
warehouse), and `seeknal plan` lists column-level changes with what a removed column breaks downstream."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from seeknal_sqlmesh.workflow.columns import ColumnChange, diff_columns
from tests.test_workflow_project import EVENT_COLUMNS, seeknal, translated, write_shop

pytestmark = pytest.mark.slow


def test_file_sources_declare_the_file_columns_in_file_order_and_keep_select_star(tmp_path: Path):
    root = write_shop(tmp_path / "shop")
    seeknal("translate", root, "-o", translated(root))
    text = (translated(root) / "models" / "source" / "events.sql").read_text()
    from sqlmesh.core.dialect import parse

    model, query = parse(text, default_dialect="duckdb")[:2]
    columns = next(p for p in model.expressions if p.name == "columns").args["value"]
    declared = {c.name: c.args["kind"].sql("duckdb") for c in columns.expressions}
    with duckdb.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM read_csv_auto('{root / 'data' / 'events.csv'}')").fetchall()
    assert list(declared) == EVENT_COLUMNS == [name for name, *_ in described]
    # types stay DuckDB's own at run time: declared unknown, so SQLMesh never builds a table from inferred types
    assert set(declared.values()) == {"UNKNOWN"}
    assert isinstance(query, exp.Select) and query.is_star  # what SQLMesh computes is unchanged


def test_declared_source_columns_change_no_table_type_downstream(tmp_path: Path):
    """SUM of an INTEGER is HUGEINT in DuckDB; sqlglot would say BIGINT if the source's types were declared."""
    root = write_shop(tmp_path / "shop")
    (root / "seeknal" / "transforms" / "units.yml").write_text(
        "kind: transform\nname: units\ninputs: [{ref: source.events}]\n"
        "transform: SELECT user_id, SUM(CAST(amount AS INTEGER)) AS units, "
        "ROUND(SUM(amount)::DECIMAL(10, 2), 1) AS total FROM ref('source.events') GROUP BY user_id\n"
    )
    seeknal("apply", "-p", root)
    from seeknal_sqlmesh.workflow import open_workspace

    with open_workspace(root) as ws:
        types = dict(ws.context.fetchdf("DESCRIBE SELECT * FROM transform.units")[["column_name", "column_type"]].values)
    with duckdb.connect() as con:  # the same query on the file, in DuckDB alone
        direct = con.execute(
            "DESCRIBE SELECT user_id, SUM(CAST(amount AS INTEGER)) AS units, ROUND(SUM(amount)::DECIMAL(10, 2), 1) "
            f"AS total FROM read_csv_auto('{root / 'data' / 'events.csv'}') GROUP BY user_id"
        ).fetchall()
    assert types == {name: ty for name, ty, *_ in direct}
    assert types["units"] == "HUGEINT"


def test_lineage_and_impact_go_through_select_star_without_a_warehouse(tmp_path: Path):
    root = write_shop(tmp_path / "shop")
    seeknal("translate", root, "-o", translated(root))  # translated only: nothing built, no warehouse to read
    graph = json.loads(seeknal("lineage", "transform.user_metrics.revenue", "-p", root, "--format", "json").output)
    leaves = {n["id"]: n["note"] for n in graph["nodes"] if not any(e["to"] == n["id"] for e in graph["edges"])}
    assert leaves == {"source.events.amount": "source column", "source.events.event_type": "source column"}

    impact = json.loads(seeknal("impact", "source.events.event_type", "-p", root, "--format", "json").output)
    ids = {n["id"] for n in impact["nodes"]}
    assert {
        "transform.clean_events.event_type",  # SELECT * FROM source.events
        "transform.enriched_events.event_type",  # SELECT e.*, ...
        "transform.user_metrics.revenue",
        "feature_group.user_features.purchases",
    } <= ids


def test_diff_columns_orders_added_retyped_then_removed():
    changes = diff_columns("m", {"a": "INT", "b": "TEXT", "c": "INT"}, {"a": "BIGINT", "d": "DATE", "c": "INT"})
    assert changes == [
        ColumnChange("m", "a", "type changed", "INT", "BIGINT", ""),
        ColumnChange("m", "d", "added", "", "DATE", ""),
        ColumnChange("m", "b", "removed", "TEXT", "", ""),
    ]


def test_plan_lists_added_removed_and_retyped_columns_and_what_a_removal_breaks(tmp_path: Path):
    root = write_shop(tmp_path / "shop")
    seeknal("apply", "-p", root)
    clean = root / "seeknal" / "transforms" / "clean_events.yml"
    clean.write_text(
        clean.read_text().replace(
            "transform: SELECT * FROM ref('source.events') WHERE event_type IS NOT NULL",
            "transform: SELECT event_id, user_id, CAST(amount AS DECIMAL(10, 2)) AS amount, event_date, 1 AS flag "
            "FROM ref('source.events') WHERE event_type IS NOT NULL",
        )
    )
    from seeknal_sqlmesh.workflow import open_workspace
    from seeknal_sqlmesh.workflow.plan import plan, translate_changes

    with open_workspace(root) as ws:
        translate_changes(ws.paths)
    with open_workspace(root) as ws:
        result = plan(ws, "dev")
    assert not result.applied
    by_model = {}
    for change in result.columns:
        by_model.setdefault(change.model, []).append(change)
    clean_changes = {(c.column, c.change, c.old_type, c.new_type): c.breaks for c in by_model["transform.clean_events"]}
    assert set(clean_changes) == {
        ("amount", "type changed", "UNKNOWN", "DECIMAL(10, 2)"),  # a source's column types are not declared
        ("flag", "added", "", "INT"),
        ("event_type", "removed", "UNKNOWN", ""),
    }
    broken = set(clean_changes[("event_type", "removed", "UNKNOWN", "")].split(", "))
    assert broken == {
        "transform.enriched_events.event_type",
        "transform.user_metrics.revenue",
        "feature_group.user_features.purchases",
        "feature_store.entity_user.user_features",
    }
    # the SELECT e.* downstream loses the column and gains the new one (indirectly modified, columns known)
    enriched = {(c.column, c.change) for c in by_model["transform.enriched_events"]}
    assert {("flag", "added"), ("event_type", "removed")} <= enriched

    out = seeknal("plan", "dev", "-p", root).output
    assert "Column changes for 'dev'" in out
    assert "event_type" in out and "removed" in out and "type changed" in out


def test_sample_project_web_event_type_feeds_web_sessions_offline(tmp_path: Path):
    sample = Path(__file__).resolve().parent.parent / "sample_project"
    out = tmp_path / "sample"
    seeknal("translate", sample, "-o", out)
    graph = json.loads(seeknal("impact", "source.web_events.event_type", "-p", out, "--format", "json").output)
    sessions = {n["column"] for n in graph["nodes"] if n.get("model") == "transform.web_sessions"}
    assert {"product_views", "added_to_cart", "purchased"} <= sessions


def test_a_file_with_upper_case_columns_declares_nothing_and_keeps_their_case_downstream(tmp_path: Path):
    from tests.helpers import write_project

    root = write_project(
        tmp_path / "p",
        {
            "sources/s.yml": {"kind": "source", "name": "s", "source": "csv", "table": "data/s.csv"},
            "transforms/a.yml": {
                "kind": "transform",
                "name": "a",
                "inputs": [{"ref": "source.s"}],
                "transform": "SELECT * FROM ref('source.s')",
            },
        },
        files={"data/s.csv": "user_id,Amount\nU1,3\n"},
    )
    result = seeknal("translate", root, "-o", translated(root))
    assert "upper-case column names (Amount)" in result.output
    seeknal("apply", "-p", root)
    assert "columns (" not in (translated(root) / "models" / "source" / "s.sql").read_text()
    from seeknal_sqlmesh.workflow import open_workspace

    with open_workspace(root) as ws:
        assert list(ws.context.fetchdf("SELECT * FROM transform.a").columns) == ["user_id", "Amount"]


def test_create_test_when_the_sampled_rows_of_a_parent_column_are_all_null(tmp_path: Path):
    """A file source declares its columns UNKNOWN; when a column's sampled rows are all NULL SQLMesh cannot infer
    its type, so the test's inputs carry the warehouse's column types instead, and the test passes."""
    import yaml

    root = write_shop(tmp_path / "shop")
    (root / "data" / "notes.csv").write_text("id,note\n1,\n2,\n3,\n4,late\n")
    (root / "seeknal" / "sources" / "notes.yml").write_text(
        "kind: source\nname: notes\nsource: csv\ntable: data/notes.csv\n"
    )
    (root / "seeknal" / "transforms" / "noted.yml").write_text(
        "kind: transform\nname: noted\ninputs: [{ref: source.notes}]\n"
        "transform: SELECT id, note, note IS NULL AS missing FROM ref('source.notes')\n"
    )
    seeknal("apply", "-p", root)
    seeknal("create-test", "transform.noted", "-p", root, "--rows", "3")
    path = translated(root) / "tests" / "test_transform__noted.yaml"
    test = yaml.safe_load(path.read_text())["test_transform__noted"]
    (source,) = test["inputs"].values()
    assert source["columns"] == {"id": "BIGINT", "note": "TEXT"} and [r["note"] for r in source["rows"]] == [None] * 3
    assert [r["missing"] for r in test["outputs"]["query"]] == [True, True, True]
    assert "1 tests ran: 1 passed" in seeknal("test", "-p", root).stderr
