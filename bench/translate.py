"""Benchmark: `seeknal translate` on synthetic projects of 100, 1,000 and 10,000 nodes.

Prints nodes/s and peak memory per size. Each size runs in a fresh subprocess so peak RSS is per size.
The peer is Seeknal 2.13's own `seeknal parse` of the same project (its manifest build), when the Seeknal venv
made by scripts/seeknal-golden.sh exists: ratio = our translate time / seeknal parse time.

Usage: python bench/translate.py [--sizes 100,1000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEKNAL = Path(os.environ.get("SEEKNAL_VENV", ROOT / ".venvs" / "seeknal")) / "bin" / "seeknal"


def run_one(size: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from bench.synthetic import write_synthetic_project
    from seeknal_sqlmesh.translators import translate_project

    with tempfile.TemporaryDirectory() as tmp:
        project = write_synthetic_project(Path(tmp) / "p", size)
        start = time.perf_counter()
        result = translate_project(project, Path(tmp) / "out")
        seconds = time.perf_counter() - start
        peer = None
        if SEEKNAL.exists():
            start = time.perf_counter()
            done = subprocess.run([str(SEEKNAL), "parse"], cwd=project, capture_output=True, text=True)
            peer = time.perf_counter() - start if done.returncode == 0 else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"nodes": len(result.project.nodes), "models": result.model_count, "seconds": seconds, "peak_mb": peak_mb, "seeknal_parse_s": peer}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    print(f"{'nodes':>7} {'models':>7} {'seconds':>8} {'nodes/s':>8} {'peak MB':>8} {'seeknal parse s':>16} {'ratio ours/peer':>16}")
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        peer = r["seeknal_parse_s"]
        ratio = f"{r['seconds'] / peer:.2f}" if peer else "n/a"
        print(f"{r['nodes']:>7} {r['models']:>7} {r['seconds']:>8.2f} {r['nodes'] / r['seconds']:>8.0f} {r['peak_mb']:>8.0f} "
              f"{(f'{peer:.2f}' if peer else 'n/a'):>16} {ratio:>16}")


if __name__ == "__main__":
    main()
