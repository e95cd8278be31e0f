"""`seeknal dev`: one warm process keeps a development environment up to date with the Seeknal project."""

from __future__ import annotations

import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from seeknal_sqlmesh.contract import find_project
from seeknal_sqlmesh.workflow.dev import DevLoop
from tests.test_workflow_project import seeknal, write_shop
from tests.test_workflow_sources import query

pytestmark = pytest.mark.slow

METRICS = "seeknal/transforms/user_metrics.yml"


def add_column(root: Path) -> None:
    path = root / METRICS
    path.write_text(path.read_text().replace("AS revenue", "AS revenue, 1 AS one"))


def columns(root: Path, table: str) -> t.List[str]:
    return [c[0] for c in query(root, f"DESCRIBE {table}")]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = write_shop(tmp_path / "shop")
    seeknal("apply", "-p", root)
    return root


def test_the_loop_applies_edits_and_data_changes_to_dev_only(shop: Path):
    loop = DevLoop(find_project(shop))
    try:
        first = loop.cycle()
        assert first.error is None and "up to date" in first.summary("dev")
        assert loop.poll() == [] and loop.cycle().changes == []  # a no-op cycle changes nothing

        add_column(shop)
        edited = loop.poll()
        assert edited == [METRICS]
        cycle = loop.cycle(edited)
        assert cycle.error is None
        assert [(c.model, c.change) for c in cycle.changes] == [("transform.user_metrics", "directly modified")]
        assert cycle.summary("dev").startswith(f"[3] {METRICS}: 1 translated files changed; 'dev' applied:")

        with (shop / "data" / "events.csv").open("a") as handle:
            handle.write("7,U2,purchase,1,2026-01-02\n")
        data = loop.cycle(loop.poll())
        assert [c.model for c in data.restated] == ["source.events"] and data.changes == []

        bad = shop / "seeknal" / "transforms" / "clean_events.yml"
        good = bad.read_text()
        bad.write_text(good.replace("inputs: [{ref: source.events}]", "inputs: [{ref: source.eventz}]"))
        broken = loop.cycle(loop.poll())
        assert broken.error and "source.eventz" in broken.error  # reported; the loop goes on
        bad.write_text(good)
        assert loop.cycle(loop.poll()).error is None
        (shop / METRICS).write_text((shop / METRICS).read_text())  # saved again, same content: no change
        assert loop.poll() == [] and loop.cycle([]).wall < 0.1
    finally:
        loop.close()
    assert "one" in columns(shop, "transform__dev.user_metrics")
    assert "one" not in columns(shop, "transform.user_metrics")  # prod is untouched
    assert query(shop, "SELECT events FROM transform__dev.user_metrics WHERE user_id = 'U2'") == [(3,)]
    assert query(shop, "SELECT events FROM transform.user_metrics WHERE user_id = 'U2'") == [(2,)]


def test_seeknal_dev_max_cycles_picks_up_an_edit(shop: Path):
    command = [sys.executable, "-m", "seeknal_sqlmesh.cli", "dev", "-p", str(shop), "--max-cycles", "2"]
    proc = subprocess.Popen([*command, "--poll", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("[1] 'dev' is up to date"), first + (proc.stderr.read() if proc.stderr else "")
        add_column(shop)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.startswith(f"[2] {METRICS}: 1 translated files changed; 'dev' applied: transform.user_metrics")
    assert "Stopped after 2 cycles." in err
    assert "one" in columns(shop, "transform__dev.user_metrics")
    assert "one" not in columns(shop, "transform.user_metrics")


def test_seeknal_dev_refuses_prod(shop: Path):
    result = seeknal("dev", "-p", shop, "--env", "prod", "--once", ok=False)
    assert result.exit_code == 2 and "not prod" in result.output
