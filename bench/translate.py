"""Benchmark: `seeknal translate` on synthetic projects of 100, 1,000 and 10,000 nodes.

Three rows per size, each the median of 3 runs of the CLI in a fresh process (what a user waits for, imports
included), wall-clock and CPU (user + sys of the process and the workers it forked):

- from scratch: no earlier output and no cache (the output folder and its data area removed first);
- after one node edit: one transform's filter changed, translated into the existing output (render cache warm);
- no-op --check: `seeknal translate --check` right after, nothing changed (answered from the recorded fingerprint).

Peak MB is the largest resident set of any run of the row. The peer is Seeknal 2.13's own `seeknal parse` of the
same project (its manifest build), when the Seeknal venv made by scripts/seeknal-golden.sh exists: ratio = our
from-scratch wall time / seeknal parse wall time.

Usage: python bench/translate.py [--sizes 100,1000,10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEEKNAL = Path(os.environ.get("SEEKNAL_VENV", ROOT / ".venvs" / "seeknal")) / "bin" / "seeknal"
ENV = {**os.environ, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"}


def timed(cmd: t.List[str], cwd: t.Optional[Path] = None) -> t.Dict[str, float]:
    """Wall and CPU seconds (user + sys, the process and every child it waited for) and peak RSS of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024, "rc": proc.returncode}


def translate(project: Path, out: Path, *extra: str) -> t.List[str]:
    return [sys.executable, "-m", "seeknal_sqlmesh.cli", "translate", str(project), "-o", str(out), "-q", *extra]


def edit_one_node(project: Path, value: int) -> None:
    path = sorted((project / "seeknal" / "transforms").glob("t_*.yml"))[0]
    path.write_text(re.sub(r"amount > \d+", f"amount > {value}", path.read_text()))


def run_size(size: int, runs: int) -> t.Dict[str, t.Any]:
    from bench.synthetic import write_synthetic_project

    rows: t.Dict[str, t.List[t.Dict[str, float]]] = {"from scratch": [], "after one node edit": [], "no-op --check": []}
    peer: t.List[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        project = write_synthetic_project(Path(tmp) / "p", size)
        out = Path(tmp) / "out"
        for run in range(runs):
            for folder in (out, out.with_name("out.data")):
                shutil.rmtree(folder, ignore_errors=True)
            rows["from scratch"].append(timed(translate(project, out)))
            edit_one_node(project, 100 + run)
            rows["after one node edit"].append(timed(translate(project, out)))
            check = timed(translate(project, out, "--check"))
            if check["rc"] != 0:
                raise RuntimeError("the no-op --check found the translation stale")
            rows["no-op --check"].append(check)
            if SEEKNAL.exists():
                done = timed([str(SEEKNAL), "parse"], cwd=project)
                if done["rc"] == 0:
                    peer.append(done["wall"])
        manifest = json.loads((out / "seeknal" / "manifest.json").read_text())
    return {
        "nodes": len(manifest["nodes"]),
        "models": sum(len(n["models"]) for n in manifest["nodes"].values()),
        "rows": {
            name: {
                "wall": statistics.median(r["wall"] for r in results),
                "cpu": statistics.median(r["cpu"] for r in results),
                "peak_mb": max(r["peak_mb"] for r in results),
            }
            for name, results in rows.items()
        },
        "seeknal_parse_s": statistics.median(peer) if peer else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the median is printed")
    parser.add_argument("--json", action="store_true", help="print the results as JSON lines")
    args = parser.parse_args()
    header = f"{'nodes':>7} {'models':>7} {'row':<20} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'seeknal parse s':>16} {'ratio ours/peer':>16}"
    if not args.json:
        print(header)
    for size in (int(s) for s in args.sizes.split(",")):
        r = run_size(size, args.runs)
        if args.json:
            print(json.dumps(r))
            continue
        for name, row in r["rows"].items():
            peer = r["seeknal_parse_s"] if name == "from scratch" else None
            ratio = f"{row['wall'] / peer:.2f}" if peer else "n/a"
            print(
                f"{r['nodes']:>7} {r['models']:>7} {name:<20} {row['wall']:>8.2f} {row['cpu']:>8.2f} {row['peak_mb']:>8.0f} "
                f"{(f'{peer:.2f}' if peer else 'n/a'):>16} {ratio:>16}",
                flush=True,
            )


if __name__ == "__main__":
    main()
