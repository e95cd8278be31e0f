"""The Seeknal workflow commands: the small project the workflow tests share, and tests that need no SQLMesh state.

The project (`write_shop`): two CSV sources, a `SELECT *` chain (clean_events -> enriched_events), an aggregate
with audits, a daily feature group, a file exposure, a semantic model and two metrics.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from seeknal_sqlmesh.workflow.html import layers, render_html
from seeknal_sqlmesh.workflow.lineage import LineageGraph

EVENTS = """event_id,user_id,event_type,amount,event_date
1,U1,view,0,2026-01-01
2,U1,purchase,10.5,2026-01-01
3,U2,view,0,2026-01-02
4,U2,purchase,20,2026-01-02
5,U3,purchase,5,2026-01-03
6,U1,view,0,2026-01-03
"""
EVENT_COLUMNS = ["event_id", "user_id", "event_type", "amount", "event_date"]

FILES = {
    "seeknal_project.yml": "name: shop\nversion: 1.0.0\n",
    "data/events.csv": EVENTS,
    "data/users.csv": "user_id,country\nU1,DE\nU2,FR\nU3,DE\n",
    "seeknal/sources/events.yml": "kind: source\nname: events\nsource: csv\ntable: data/events.csv\n",
    "seeknal/sources/users.yml": "kind: source\nname: users\nsource: csv\ntable: data/users.csv\n",
    "seeknal/transforms/clean_events.yml": """
        kind: transform
        name: clean_events
        inputs: [{ref: source.events}]
        transform: SELECT * FROM ref('source.events') WHERE event_type IS NOT NULL
        audits:
          - {type: not_null, columns: [event_id]}
    """,
    "seeknal/transforms/enriched_events.yml": """
        kind: transform
        name: enriched_events
        inputs: [{ref: transform.clean_events}, {ref: source.users}]
        transform: |
          SELECT e.*, u.country FROM ref('transform.clean_events') e JOIN ref('source.users') u ON e.user_id = u.user_id
    """,
    "seeknal/transforms/user_metrics.yml": """
        kind: transform
        name: user_metrics
        inputs: [{ref: transform.enriched_events}]
        transform: |
          SELECT user_id, country, COUNT(*) AS events,
                 SUM(CASE WHEN event_type = 'purchase' THEN amount ELSE 0 END) AS revenue
          FROM ref('transform.enriched_events') GROUP BY user_id, country
        audits:
          - {type: not_null, columns: [user_id]}
    """,
    "seeknal/feature_groups/user_features.yml": """
        kind: feature_group
        name: user_features
        entity: {name: user, join_keys: [user_id]}
        materialization: {event_time_col: event_time}
        features:
          purchases: {description: Purchases that day}
        inputs: [{ref: transform.clean_events}]
        transform: |
          SELECT user_id, CAST(event_date AS TIMESTAMP) AS event_time,
                 COUNT(*) FILTER (WHERE event_type = 'purchase') AS purchases
          FROM source GROUP BY user_id, event_date
    """,
    "seeknal/exposures/metrics_csv.yml": """
        kind: exposure
        name: metrics_csv
        type: file
        depends_on: [{ref: transform.user_metrics}]
        params: {format: csv, path: target/exports/user_metrics.csv}
    """,
    "seeknal/semantic_models/events.yml": """
        kind: semantic_model
        name: events
        model: "ref('transform.enriched_events')"
        default_time_dimension: event_date
        entities: [{name: user_id, type: foreign}]
        dimensions:
          - {name: event_date, type: time, time_granularity: day}
          - {name: kind, type: categorical, expr: event_type}
          - {name: country, type: categorical}
        measures:
          - {name: amount_total, expr: amount, agg: sum}
          - {name: event_count, expr: "1", agg: count}
    """,
    "seeknal/metrics/purchases.yml": """
        kind: metric
        name: purchases
        type: simple
        measure: event_count
        filter: "kind = 'purchase'"
    """,
    "seeknal/metrics/revenue.yml": "kind: metric\nname: revenue\ntype: simple\nmeasure: amount_total\n",
}


def write_shop(root: Path) -> Path:
    """The shop Seeknal project in `root` (translated output goes to root/target/sqlmesh)."""
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def translated(root: Path) -> Path:
    return root / "target" / "sqlmesh"


def seeknal(*args: t.Union[str, Path], ok: bool = True) -> Result:
    """`seeknal ARGS` in-process; with `ok`, a non-zero exit fails the test with the output."""
    from seeknal_sqlmesh.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok and result.exit_code != 0:
        raise AssertionError(f"seeknal {' '.join(map(str, args))} -> {result.exit_code}\n{result.output}")
    return result


# ---------------------------------------------------------------------- tests without SQLMesh state

WORKFLOW = [
    "plan",
    "apply",
    "promote",
    "run",
    "render",
    "audit",
    "lineage",
    "impact",
    "create-test",
    "test",
    "check-intervals",
    "invalidate",
    "env",
    "janitor",
]


def test_every_workflow_command_is_a_seeknal_command_whose_help_names_the_sqlmesh_command():
    from seeknal_sqlmesh.cli import cli

    assert set(WORKFLOW) <= set(cli.commands)
    for name in WORKFLOW:
        sub = ["list"] if name == "env" else []
        text = seeknal(name, *sub, "--help").output
        assert "sqlmesh" in text.lower(), f"`seeknal {name} --help` does not name its SQLMesh command"
    assert "`sqlmesh environments`" in " ".join(seeknal("env", "list", "--help").output.split())
    assert "`sqlmesh invalidate ENV --sync`" in " ".join(seeknal("env", "drop", "--help").output.split())


def test_the_workflow_cli_imports_no_sqlmesh():
    code = "import sys, seeknal_sqlmesh.workflow.cli, seeknal_sqlmesh.workflow.plugin; print('sqlmesh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert out.stdout.strip() == "False"


def diamond() -> LineageGraph:
    graph = LineageGraph("c.m.x", "upstream")
    for node in ("a.m.x", "b.m.x", "b.n.y", "c.m.x"):
        graph.nodes[node] = {"type": "column", "kind": node.split(".")[0], "note": ""}
    for edge in (("a.m.x", "b.m.x"), ("a.m.x", "b.n.y"), ("b.m.x", "c.m.x"), ("b.n.y", "c.m.x")):
        graph.add_edge(*edge)
    return graph


def test_a_tree_expands_a_shared_parent_once():
    tree = diamond().tree()
    assert tree.splitlines()[0] == "c.m.x"
    assert tree.count("a.m.x") == 2  # under both children, expanded once
    assert diamond().leaves() == ["a.m.x"]


def test_html_is_self_contained_and_lays_out_data_flowing_left_to_right():
    graph = diamond()
    assert layers(graph) == {"a.m.x": 0, "b.m.x": 1, "b.n.y": 1, "c.m.x": 2}
    page = render_html(graph, "Lineage of <c.m.x>")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "Lineage of &lt;c.m.x&gt;" in page
    for external in ("src=", "href=", "@import", "url(", "<link"):
        assert external not in page
    assert page.count('class="edge"') == 4
    assert all(f'data-id="{node}"' in page for node in graph.nodes)


@pytest.mark.parametrize("bad", ["transform", "transform.user_metrics"])
def test_a_column_id_needs_three_parts(bad):
    from seeknal_sqlmesh.workflow.context import UnknownNode, Workspace

    ws = Workspace.__new__(Workspace)
    with pytest.raises(UnknownNode, match="not a column id"):
        ws.column(bad)
