"""Benchmark: independent heavy models built at 1 concurrent task and at N (the load-time default, or --tasks).

A Seeknal project with one Parquet source and `--models` independent transforms (each a self-join aggregation) is
translated once per run, then `seeknal apply` builds prod on a fresh warehouse with SEEKNAL_SQLMESH_CONCURRENT_TASKS
set; only the apply is timed (wall clock, one subprocess each). Runs alternate between task counts so drift on a
shared machine hits both alike; the median per count is reported.

Usage: python bench/concurrency.py [--models 12] [--rows 2000000] [--tasks 1,2,4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml


def write_project(root: Path, models: int, rows: int) -> None:
    (root / "data").mkdir(parents=True)
    (root / "seeknal_project.yml").write_text("name: heavy\nversion: 1.0.0\n")
    duckdb.sql(
        f"COPY (SELECT i AS id, i % 1000 AS k, random() AS v FROM range({rows}) t(i)) TO '{root}/data/base.parquet'"
    )
    nodes = {"sources/base.yml": {"kind": "source", "name": "base", "source": "parquet", "table": "data/base.parquet"}}
    for i in range(models):
        sql = (
            f"SELECT a.k, count(*) AS c, sum(a.v * b.v) AS s FROM ref('source.base') a JOIN ref('source.base') b "
            f"ON a.id % 5000 = b.id % 5000 AND a.k = (b.k + {i}) % 1000 GROUP BY a.k"
        )
        nodes[f"transforms/t{i:02d}.yml"] = {
            "kind": "transform",
            "name": f"t{i:02d}",
            "inputs": [{"ref": "source.base"}],
            "transform": sql,
        }
    for rel, node in nodes.items():
        path = root / "seeknal" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(node, sort_keys=False))


def one_run(template: Path, work: Path, tasks: int) -> float:
    project = work / f"run{tasks}"
    shutil.rmtree(project, ignore_errors=True)  # the warehouse lives inside it: every run starts empty
    shutil.copytree(template, project)
    seeknal = [sys.executable, "-m", "seeknal_sqlmesh.cli"]
    subprocess.run(
        [*seeknal, "translate", str(project), "-o", str(project / "target" / "sqlmesh")],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "SEEKNAL_SQLMESH_CONCURRENT_TASKS": str(tasks), "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [*seeknal, "apply", "-p", str(project), "--no-translate"], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"apply with {tasks} tasks failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--tasks", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from seeknal_sqlmesh.runtime.config import default_concurrent_tasks

    default = default_concurrent_tasks("duckdb") or 1
    counts = sorted({int(x) for x in args.tasks.split(",") if x.strip()} or {1, default})
    with tempfile.TemporaryDirectory(prefix="seeknal-bench-") as tmp:
        work = Path(tmp)
        template = work / "template"
        write_project(template, args.models, args.rows)
        times: dict = {n: [] for n in counts}
        for _ in range(args.repeat):
            for n in counts:
                times[n].append(one_run(template, work, n))
    print(
        f"{args.models} independent models, {args.rows} source rows, {os.cpu_count()} cores "
        f"(default on this machine: {default} tasks)"
    )
    for n in counts:
        runs = ", ".join(f"{x:.1f}" for x in times[n])
        print(f"  {n:>2} task(s): median {statistics.median(times[n]):6.1f} s   ({runs})")


if __name__ == "__main__":
    main()
