"""Parallel by default: `concurrent_tasks` chosen at load time, and DuckDB models evaluated concurrently and correctly.

SQLMesh gives each thread its own DuckDB cursor only when the *connection* is configured for more than one task
(`ThreadLocalSharedConnectionPool`); `Context(concurrent_tasks=N)` alone leaves one cursor shared by N threads and
fails with "No open result set". The load-time default and `--workers` both set the connection's value.
"""

from __future__ import annotations

import itertools
import threading
import time
import typing as t
from pathlib import Path

import duckdb
import pytest
import yaml

from seeknal_sqlmesh.errors import SeeknalError
from seeknal_sqlmesh.runtime import config as runtime_config
from seeknal_sqlmesh.runtime.config import apply_concurrency, default_concurrent_tasks
from tests.helpers import write_project

MODELS = 6


def test_duckdb_default_comes_from_the_cores_and_other_engines_keep_sqlmesh_defaults():
    assert [default_concurrent_tasks("duckdb", n) for n in (1, 2, 4, 12, 64)] == [1, 2, 2, 6, 8]
    assert default_concurrent_tasks("motherduck", 12) == 4
    assert default_concurrent_tasks("postgres", 12) is None  # SQLMesh's own default for the type (4)
    assert default_concurrent_tasks("starrocks", 12) is None


def test_a_user_value_wins_over_the_default_and_an_override_over_both():
    def gateways(**connection: t.Any) -> t.Dict[str, t.Any]:
        return {
            "duckdb": {
                "connection": {"type": "duckdb", **connection},
                "state_connection": {"type": "duckdb", "database": "state.duckdb"},
            },
            "pg": {"connection": {"type": "postgres"}},
        }

    chosen = gateways()
    apply_concurrency(chosen, cores=12)
    assert chosen["duckdb"]["connection"]["concurrent_tasks"] == 6
    assert chosen["duckdb"]["state_connection"]["concurrent_tasks"] == 6  # no SQLMesh warning, no hang
    assert "concurrent_tasks" not in chosen["pg"]["connection"]

    user = gateways(concurrent_tasks=1)
    apply_concurrency(user, cores=12)
    assert user["duckdb"]["connection"]["concurrent_tasks"] == 1
    assert user["duckdb"]["state_connection"]["concurrent_tasks"] == 1

    forced = gateways(concurrent_tasks=1)
    apply_concurrency(forced, override=3, cores=12)
    assert forced["duckdb"]["connection"]["concurrent_tasks"] == 3
    assert forced["pg"]["connection"]["concurrent_tasks"] == 3


def heavy_project(root: Path) -> Path:
    """A file source and MODELS independent transforms, each a self-join heavy enough to overlap with the others."""
    (root / "data").mkdir(parents=True)
    duckdb.sql(
        f"COPY (SELECT i AS id, i % 97 AS k, (i * 7919) % 1000 AS v FROM range(200000) t(i)) "
        f"TO '{root / 'data' / 'base.parquet'}'"
    )
    nodes: t.Dict[str, t.Any] = {
        "sources/base.yml": {"kind": "source", "name": "base", "source": "parquet", "table": "data/base.parquet"}
    }
    for i in range(MODELS):
        sql = (
            f"SELECT a.k, count(*) AS pairs, sum(a.v * b.v + {i}) AS total FROM ref('source.base') a "
            f"JOIN ref('source.base') b ON a.id % 2000 = b.id % 2000 AND a.k = b.k GROUP BY a.k"
        )
        nodes[f"transforms/t{i}.yml"] = {
            "kind": "transform",
            "name": f"t{i}",
            "inputs": [{"ref": "source.base"}],
            "transform": sql,
        }
    return write_project(root, nodes, name="heavy")


def build(project: Path, out: Path, tasks: int, monkeypatch: pytest.MonkeyPatch):
    """Translate, plan into prod with `tasks` concurrent tasks; (results per model, evaluation spans per thread)."""
    from sqlmesh.core.snapshot.evaluator import SnapshotEvaluator

    from seeknal_sqlmesh.translators import translate_project
    from seeknal_sqlmesh.workflow import open_workspace
    from seeknal_sqlmesh.workflow.plan import apply

    translate_project(project, out)
    spans: t.List[t.Tuple[int, float, float, str]] = []
    original = SnapshotEvaluator.evaluate

    def evaluate(self: t.Any, snapshot: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        start = time.perf_counter()
        try:
            return original(self, snapshot, *args, **kwargs)
        finally:
            spans.append((threading.get_ident(), start, time.perf_counter(), snapshot.name))

    monkeypatch.setattr(SnapshotEvaluator, "evaluate", evaluate)
    with open_workspace(out, concurrent_tasks=tasks) as ws:
        assert ws.context.concurrent_tasks == tasks
        apply(ws)
        results = {
            f"transform.t{i}": ws.context.fetchdf(f"SELECT * FROM transform.t{i} ORDER BY k").to_dict("records")
            for i in range(MODELS)
        }
    monkeypatch.setattr(SnapshotEvaluator, "evaluate", original)
    return results, spans


def overlapping(spans: t.Sequence[t.Tuple[int, float, float, str]]) -> bool:
    """Two models evaluated at the same time on different threads."""
    return any(a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for a, b in itertools.combinations(spans, 2))


@pytest.mark.slow
def test_independent_duckdb_models_run_concurrently_with_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    project = heavy_project(tmp_path / "heavy")
    serial, serial_spans = build(project, tmp_path / "one", 1, monkeypatch)
    parallel, parallel_spans = build(project, tmp_path / "four", 4, monkeypatch)

    assert len({s[0] for s in serial_spans}) == 1 and not overlapping(serial_spans)
    assert len({s[0] for s in parallel_spans}) > 1, "every model was evaluated on one thread"
    assert overlapping(parallel_spans), "no two models were evaluated at the same time"
    assert parallel == serial
    assert all(len(rows) == 97 for rows in serial.values())


def test_generated_settings_stay_the_same_on_every_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from seeknal_sqlmesh.translators import translate_project

    project = write_project(
        tmp_path / "p",
        {"sources/s.yml": {"kind": "source", "name": "s", "source": "csv", "table": "data/s.csv"}},
        files={"data/s.csv": "a,b\n1,x\n"},
    )
    files = []
    for cores in (2, 64):
        monkeypatch.setattr(runtime_config.os, "cpu_count", lambda cores=cores: cores)
        files.append(translate_project(project, tmp_path / "out", check=True).files)
    assert files[0] == files[1]
    assert "concurrent_tasks" not in files[0]["settings.yaml"]
    loaded = yaml.safe_load(files[0]["settings.yaml"])
    assert all("concurrent_tasks" not in g["connection"] for g in loaded["gateways"].values())


def test_the_environment_variable_overrides_and_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(runtime_config.CONCURRENT_TASKS_ENV, "3")
    assert runtime_config._env_concurrent_tasks() == 3
    monkeypatch.setenv(runtime_config.CONCURRENT_TASKS_ENV, "many")
    with pytest.raises(SeeknalError, match="not a number of tasks"):
        runtime_config._env_concurrent_tasks()


@pytest.mark.slow
def test_workers_after_a_single_task_open_in_the_same_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """SQLMesh caches one DuckDB adapter per file per process; `--workers` must not reuse a single-cursor one."""
    project = heavy_project(tmp_path / "heavy")
    out = tmp_path / "out"
    serial, _ = build(project, out, 1, monkeypatch)  # the file's adapter is now a single-task one

    from sqlmesh.core.snapshot.evaluator import SnapshotEvaluator

    from seeknal_sqlmesh.workflow import open_workspace
    from seeknal_sqlmesh.workflow.plan import plan

    spans: t.List[t.Tuple[int, float, float, str]] = []
    original = SnapshotEvaluator.evaluate

    def evaluate(self: t.Any, snapshot: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        start = time.perf_counter()
        try:
            return original(self, snapshot, *args, **kwargs)
        finally:
            spans.append((threading.get_ident(), start, time.perf_counter(), snapshot.name))

    monkeypatch.setattr(SnapshotEvaluator, "evaluate", evaluate)
    with open_workspace(out, concurrent_tasks=4) as ws:
        # a cursor per thread (a single-task adapter has one cursor for all: races show up only now and then)
        assert type(ws.context.engine_adapter._connection_pool).__name__ == "ThreadLocalSharedConnectionPool"
        plan(ws, restate=["transform.*"], auto_apply=True)  # every transform recomputed, 4 at a time
        again = {
            f"transform.t{i}": ws.context.fetchdf(f"SELECT * FROM transform.t{i} ORDER BY k").to_dict("records")
            for i in range(MODELS)
        }
    assert len({s[0] for s in spans}) > 1 and overlapping(spans)
    assert again == serial
