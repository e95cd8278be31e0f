"""`seeknal run` notices file sources whose data changed since the environment processed them and restates them
with their downstream: FULL models (transform.user_metrics) and incremental ones (feature_group.user_features,
incremental by event time) both reflect the new rows, also in intervals processed long before."""

from __future__ import annotations

import json
import os
import typing as t
from pathlib import Path

import duckdb
import pytest

from seeknal_sqlmesh.workflow.sources import current_files, differences, expand
from tests.test_workflow_project import seeknal, translated, write_shop

# ---------------------------------------------------------------------- fingerprints (no SQLMesh)


def test_fingerprints_see_content_not_touches(tmp_path: Path):
    data = tmp_path / "data"
    (data / "part").mkdir(parents=True)
    (data / "a.csv").write_text("x\n1\n")
    (data / "part" / "p1.parquet").write_bytes(b"one")
    assert [p.name for p in expand(tmp_path, "data/a.csv")] == ["a.csv"]
    assert [p.name for p in expand(tmp_path, "data/**/*.parquet")] == ["p1.parquet"]
    assert [p.name for p in expand(tmp_path, "data/part")] == ["p1.parquet"]
    assert expand(tmp_path, "data/missing.csv") == []

    patterns = ["data/a.csv", "data/part/*.parquet"]
    before = current_files(tmp_path, patterns)
    assert set(before) == {"data/a.csv", "data/part/p1.parquet"}

    stat = (data / "a.csv").stat()
    os.utime(data / "a.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # touched, same content
    touched = current_files(tmp_path, patterns, before)
    assert differences(before, touched) == []
    assert touched["data/a.csv"]["mtime_ns"] != before["data/a.csv"]["mtime_ns"]

    (data / "a.csv").write_text("x\n2\n")  # same size, new content
    assert differences(before, current_files(tmp_path, patterns, before)) == ["data/a.csv"]
    (data / "part" / "p2.parquet").write_bytes(b"two")  # a new file under the glob
    assert differences(before, current_files(tmp_path, patterns, before)) == ["data/a.csv", "data/part/p2.parquet"]


# ---------------------------------------------------------------------- seeknal run on a planned project

pytestmark = pytest.mark.slow


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The shop Seeknal project planned into prod; returns the Seeknal project."""
    root = write_shop(tmp_path / "shop")
    seeknal("apply", "-p", root)
    return root


def query(root: Path, sql: str) -> t.List[t.Tuple[t.Any, ...]]:
    with duckdb.connect(str(_warehouse(translated(root))), read_only=True) as con:
        return con.execute(sql).fetchall()


def _warehouse(out: Path) -> Path:
    from seeknal_sqlmesh import contract

    area: Path = getattr(contract, "data_area", lambda p: p)(out)
    return area / "warehouse.duckdb"


def edit_events(root: Path) -> None:
    """Event 1 (U1, 2026-01-01) becomes a purchase of 7 and a new purchase on 2026-01-02 arrives."""
    path = root / "data" / "events.csv"
    text = path.read_text().replace("1,U1,view,0,2026-01-01", "1,U1,purchase,7,2026-01-01")
    path.write_text(text + "7,U2,purchase,1,2026-01-02\n")


def state(root: Path) -> t.Dict[str, t.Any]:
    return {
        "events": query(root, "SELECT count(*) FROM source.events")[0][0],
        "metrics": query(root, "SELECT user_id, events, revenue FROM transform.user_metrics ORDER BY user_id"),
        "features": query(
            root,
            "SELECT user_id, CAST(event_time AS DATE)::TEXT, purchases FROM feature_group.user_features "
            "WHERE event_time < '2026-01-03' ORDER BY 1, 2",
        ),
    }


BEFORE = {
    "events": 6,
    "metrics": [("U1", 3, 10.5), ("U2", 2, 20.0), ("U3", 1, 5.0)],
    "features": [("U1", "2026-01-01", 1), ("U2", "2026-01-02", 1)],
}
AFTER = {
    "events": 7,
    "metrics": [("U1", 3, 17.5), ("U2", 3, 21.0), ("U3", 1, 5.0)],
    "features": [("U1", "2026-01-01", 2), ("U2", "2026-01-02", 2)],  # incremental: an old interval recomputed
}


def test_a_changed_csv_is_restated_with_its_downstream_by_the_next_run(shop: Path):
    assert state(shop) == BEFORE
    quiet = seeknal("run", "-p", shop, "--format", "json")
    assert json.loads(quiet.stdout) == [] and "data changed" not in quiet.stderr

    edit_events(shop)
    result = seeknal("run", "-p", shop, "--format", "json")
    assert "source.events: data changed (../../data/events.csv): recomputed with its downstream" in result.stderr
    processed = {r["model"]: r["intervals"] for r in json.loads(result.stdout)}
    assert processed["source.events"] == processed["transform.user_metrics"] == "full refresh"
    assert processed["feature_group.user_features"].startswith("2000-01-01")  # every interval it had
    assert "source.users" not in processed  # unchanged file, not restated
    assert state(shop) == AFTER

    again = seeknal("run", "-p", shop, "--format", "json")  # recorded: not restated twice
    assert json.loads(again.stdout) == [] and "data changed" not in again.stderr
    assert "nothing changed since the last run" in again.stderr  # answered without loading SQLMesh

    seeknal("invalidate", "transform.user_metrics", "-p", shop, "--start", "2026-01-01")  # the state changes
    redone = seeknal("run", "-p", shop, "--format", "json")
    assert [r["model"] for r in json.loads(redone.stdout)] == ["transform.user_metrics"]
    assert state(shop) == AFTER


def test_no_restate_changed_leaves_the_data_until_a_run_restates_it(shop: Path):
    seeknal("run", "-p", shop)  # the environment's files are recorded
    edit_events(shop)
    kept = seeknal("run", "-p", shop, "--no-restate-changed", "--format", "json")
    assert "source.events: data changed" in kept.stderr and "kept (--no-restate-changed)" in kept.stderr
    assert json.loads(kept.stdout) == []
    assert state(shop) == BEFORE

    restated = seeknal("run", "-p", shop, "--format", "json")  # still changed: the old record was kept
    assert "source.events: data changed" in restated.stderr
    assert state(shop) == AFTER


def test_a_touched_file_with_the_same_content_is_not_restated(shop: Path):
    seeknal("run", "-p", shop)
    path = shop / "data" / "events.csv"
    path.write_text(path.read_text())  # new mtime, same bytes
    result = seeknal("run", "-p", shop, "--format", "json")
    assert json.loads(result.stdout) == [] and "data changed" not in result.stderr


def test_a_run_restates_data_but_does_not_deploy_code_edits(shop: Path):
    metrics = shop / "seeknal" / "transforms" / "user_metrics.yml"
    metrics.write_text(metrics.read_text().replace("AS revenue", "AS revenue, 1 AS one"))
    seeknal("translate", shop)
    edit_events(shop)
    seeknal("run", "-p", shop)
    assert state(shop) == AFTER
    columns = [c[0] for c in query(shop, "DESCRIBE transform.user_metrics")]
    assert "one" not in columns  # the run used prod's snapshots, not the edited files


def test_a_file_changed_after_the_plan_is_restated_by_the_first_run(shop: Path):
    edit_events(shop)  # no run recorded the files yet: newer than the plan means not processed
    result = seeknal("run", "-p", shop, "--format", "json")
    assert "source.events: data changed" in result.stderr and "source.users" not in result.stderr
    assert state(shop) == AFTER
