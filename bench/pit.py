"""Benchmark: point-in-time retrieval (spine rows x feature rows), ours against Seeknal 2.13 and Feast 0.67.

For each size, one generated data set (Parquet, written once by DuckDB) is read by every method; each method runs
in a fresh process so its peak memory (the process's max RSS, from wait4) is its own:

  ours-asof       seeknal_sqlmesh.features: plan + DuckDB ASOF form (what `get_historical_features` runs on DuckDB)
  ours-portable   the engine-portable form (window functions, for StarRocks) on the same DuckDB
  ours-api        ours-asof plus what the API adds: content hashes of spine and result for the manifest
  seeknal-sql     Seeknal 2.13's point-in-time SQL (ROW_NUMBER over the spine LEFT JOIN the features, reference
                  §4.3: `FeatureFrame.pit_join` / `HistoricalFeaturesDuckDB`) on the same DuckDB tables
  feast           Feast 0.67 `FeatureStore.get_historical_features(...).to_df()` with the local offline store
                  (type `file`: Dask), in its own virtual environment .venvs/feast (created here when missing)

Timed: "load" (Parquet into the engine: DuckDB tables, or Feast's registry apply) and "pit" (the retrieval, result
fetched into Arrow/pandas). Every method must return one row per spine row; the per-method checksum (non-NULL
count and sum of one feature) shows whether the answers agree (Seeknal's form collapses duplicate spine rows and
picks an arbitrary row among ties; Feast breaks ties its own way, so tiny differences there are expected).

Data: features = N_FEAT rows over N_FEAT/100 entities (string keys), event times at random seconds of 2024, three
features (double, int, nullable string); spine = N_SPINE rows, random entity and time.

Usage:
  python bench/pit.py                          # 10k x 100k, 100k x 1M
  python bench/pit.py --full                   # adds 1M x 10M (the issue's size; Seeknal's SQL takes minutes)
  python bench/pit.py --sizes 50000x500000 --methods ours-asof,seeknal-sql --timeout 600
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEAST_VENV = Path(os.environ.get("FEAST_VENV", ROOT / ".venvs" / "feast"))
FEAST_VERSION = "0.67.0"
METHODS = ["ours-asof", "ours-portable", "ours-api", "seeknal-sql", "feast"]
DEFAULT_SIZES = ["10000x100000", "100000x1000000"]
FULL_SIZE = "1000000x10000000"


# ---- data --------------------------------------------------------------------------------------------------------


def generate(folder: Path, n_spine: int, n_feat: int) -> None:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "done").is_file():
        return
    entities = max(1, n_feat // 100)
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT 'C' || (i % {entities}) AS entity_id,
                     TIMESTAMP '2024-01-01' + to_seconds((hash(i) % 31536000)::BIGINT) AS event_time,
                     (hash(i * 3) % 100000) / 100.0 AS f1, (i % 97)::INTEGER AS f2,
                     CASE WHEN i % 13 = 0 THEN NULL ELSE 'v' || (i % 7) END AS f3
              FROM range({n_feat}) t(i)) TO '{folder / "features.parquet"}' (FORMAT parquet)""")
    con.execute(f"""
        COPY (SELECT 'C' || (hash(i * 7) % {entities}) AS entity_id,
                     TIMESTAMP '2024-01-01' + to_seconds((hash(i + 99) % 31536000)::BIGINT) AS event_time,
                     (i % 2)::INTEGER AS label
              FROM range({n_spine}) t(i)) TO '{folder / "spine.parquet"}' (FORMAT parquet)""")
    (folder / "done").write_text("ok")


# ---- workers (each runs in its own process) ------------------------------------------------------------------------


def _duck_load(folder: Path):
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE features AS SELECT * FROM read_parquet('{folder / 'features.parquet'}')")
    con.execute(f"CREATE TABLE spine AS SELECT *, (row_number() OVER () - 1)::BIGINT AS __seeknal_row "
                f"FROM read_parquet('{folder / 'spine.parquet'}')")
    return con


def _checksum(table) -> dict:
    import pyarrow.compute as pc

    return {"rows": table.num_rows, "f1_non_null": table.num_rows - table.column("f1").null_count,
            "f2_sum": pc.sum(table.column("f2")).as_py()}


def worker(method: str, folder: Path) -> dict:
    import pandas  # noqa: F401  (imports are not timed)
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

    Dialect.get_or_raise("duckdb")  # sqlglot imports a dialect's module on first use: an import, so not timed either

    from seeknal_sqlmesh.features.plan import GroupRequest, GroupTable, Spine, build_plan, render_plan
    from seeknal_sqlmesh.features.training import arrow_of, digest

    started = time.perf_counter()
    con = _duck_load(folder)
    loaded = time.perf_counter()
    if method.startswith("ours"):
        def types(relation: str):
            return {r[0]: exp.DataType.build(r[1], dialect="duckdb") for r in con.execute(f"DESCRIBE {relation}").fetchall()}

        spine_types = {c: ty for c, ty in types("spine").items() if c != "__seeknal_row"}
        group = GroupTable("fg", "features", ("entity_id",), "event_time", types("features"))
        plan = build_plan(Spine("spine", spine_types, "event_time"), [GroupRequest(group, ["f1", "f2", "f3"])])
        result = arrow_of(con.execute(render_plan(plan, "portable" if method == "ours-portable" else "asof")))
        if method == "ours-api":
            digest(arrow_of(con.execute("SELECT * EXCLUDE (__seeknal_row) FROM spine ORDER BY __seeknal_row")))
            digest(result)
    elif method == "seeknal-sql":
        # Seeknal 2.13's form (reference §4.3), with the spine's row number kept out of the output
        result = arrow_of(con.execute("""
            SELECT * EXCLUDE (rn) FROM (
              SELECT spine.* EXCLUDE (__seeknal_row), features.* EXCLUDE (entity_id, event_time),
                     ROW_NUMBER() OVER (PARTITION BY spine.entity_id, spine.event_time ORDER BY features.event_time DESC) AS rn
              FROM spine LEFT JOIN features
                ON spine.entity_id = features.entity_id AND features.event_time <= spine.event_time)
            WHERE rn = 1 OR rn IS NULL"""))
    else:
        raise SystemExit(f"unknown method {method}")
    done = time.perf_counter()
    return {"load": loaded - started, "pit": done - loaded, **_checksum(result)}


FEAST_WORKER = r'''
import json, sys, tempfile, time, warnings
from datetime import timedelta
from pathlib import Path
warnings.filterwarnings("ignore")
import pandas as pd
import pyarrow.compute as pc
import pyarrow as pa
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.repo_config import RepoConfig
from feast.types import Float64, Int32, String

folder = Path(sys.argv[1])
started = time.perf_counter()
repo = Path(tempfile.mkdtemp(prefix="feast_bench_"))
config = RepoConfig(project="bench", registry=str(repo / "registry.db"), provider="local",
                    offline_store={"type": "file"}, online_store={"type": "sqlite", "path": str(repo / "online.db")},
                    entity_key_serialization_version=3, repo_path=str(repo))
store = FeatureStore(config=config)
entity = Entity(name="entity", join_keys=["entity_id"], value_type=ValueType.STRING)
source = FileSource(path=str(folder / "features.parquet"), timestamp_field="event_time")
view = FeatureView(name="fg", entities=[entity], ttl=timedelta(0), source=source, online=False,
                   schema=[Field(name="f1", dtype=Float64), Field(name="f2", dtype=Int32), Field(name="f3", dtype=String)])
store.apply([entity, view])
spine = pd.read_parquet(folder / "spine.parquet").rename(columns={"event_time": "event_timestamp"})
loaded = time.perf_counter()
frame = store.get_historical_features(entity_df=spine, features=["fg:f1", "fg:f2", "fg:f3"]).to_df()
done = time.perf_counter()
table = pa.Table.from_pandas(frame[["f1", "f2"]], preserve_index=False)
print(json.dumps({"load": loaded - started, "pit": done - loaded, "rows": len(frame),
                  "f1_non_null": int(frame["f1"].notna().sum()), "f2_sum": int(pc.sum(table.column("f2")).as_py() or 0)}))
'''


# ---- driver --------------------------------------------------------------------------------------------------------


def ensure_feast() -> tuple[bool, str]:
    python = FEAST_VENV / "bin" / "python"
    if not python.is_file():
        print(f"creating {FEAST_VENV} with feast=={FEAST_VERSION} (once)...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(FEAST_VENV)], check=True, capture_output=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", f"feast=={FEAST_VERSION}"], check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as e:
            return False, f"Feast {FEAST_VERSION} could not be installed: {(e.stderr or str(e)).strip().splitlines()[-1:]}"
    probe = subprocess.run([str(python), "-c", "import feast; print(feast.__version__)"], capture_output=True, text=True)
    if probe.returncode != 0:
        return False, f"Feast in {FEAST_VENV} does not import: {probe.stderr.strip().splitlines()[-1:]}"
    return True, probe.stdout.strip()


def _limit_memory(gigabytes: float):
    def apply() -> None:  # in the child: a MemoryError instead of the machine's OOM killer
        import resource

        limit = int(gigabytes * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def run_method(method: str, folder: Path, timeout: float, feast_memory_gb: float = 16) -> dict:
    limit = None
    if method == "feast":
        limit = _limit_memory(feast_memory_gb)
        script = Path(tempfile.mkdtemp()) / "feast_worker.py"
        script.write_text(FEAST_WORKER)
        command = [str(FEAST_VENV / "bin" / "python"), str(script), str(folder)]
    else:
        command = [sys.executable, __file__, "--worker", method, "--data", str(folder)]
    out = tempfile.TemporaryFile(mode="w+")
    err = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                               preexec_fn=limit)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            return {"error": f"timeout after {timeout:.0f} s", "peak_mb": usage.ru_maxrss / 1024}
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    if process.returncode != 0:
        return {"error": (err.read().strip().splitlines() or ["failed"])[-1][:160], "peak_mb": usage.ru_maxrss / 1024}
    result = json.loads(out.read().strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(DEFAULT_SIZES), help="SPINExFEATURES, comma-separated")
    parser.add_argument("--full", action="store_true", help=f"also run {FULL_SIZE} (the issue's 1M x 10M)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per method and size")
    parser.add_argument("--feast-memory-gb", type=float, default=16, help="address-space limit of the Feast process")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "seeknal_pit_bench", help="data cache folder")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.data)))
        return 0

    sizes = [s for s in args.sizes.split(",") if s] + ([FULL_SIZE] if args.full else [])
    methods = [m for m in args.methods.split(",") if m]
    feast_note = ""
    if "feast" in methods:
        ok, feast_note = ensure_feast()
        if not ok:
            print(f"NOTE: {feast_note}; the feast column is skipped")
            methods.remove("feast")
        else:
            feast_note = f"feast {feast_note} (local offline store: file/Dask)"
    import duckdb

    print(f"machine: {os.cpu_count()} CPUs; duckdb {duckdb.__version__}; {feast_note or 'feast not run'}")
    results: dict = {}
    for size in sizes:
        n_spine, n_feat = (int(x) for x in size.lower().split("x"))
        folder = args.data / size
        generate(folder, n_spine, n_feat)
        print(f"\n== spine {n_spine:,} rows x features {n_feat:,} rows ({max(1, n_feat // 100):,} entities)", flush=True)
        print(f"{'method':<15}{'load s':>9}{'pit s':>10}{'pit vs ours':>13}{'peak MB':>10}  rows / checksum")
        for method in methods:
            r = run_method(method, folder, args.timeout, args.feast_memory_gb)
            results[(size, method)] = r
            base = results.get((size, "ours-asof"), {}).get("pit")
            if "error" in r:
                print(f"{method:<15}{'':>9}{'-':>10}{'':>13}{r['peak_mb']:>10.0f}  {r['error']}", flush=True)
                continue
            ratio = f"{r['pit'] / base:.2f}x" if base else "-"
            print(f"{method:<15}{r['load']:>9.2f}{r['pit']:>10.2f}{ratio:>13}{r['peak_mb']:>10.0f}  "
                  f"{r['rows']:,} / f1 non-null {r['f1_non_null']:,}, f2 sum {r['f2_sum']:,}", flush=True)
    if len(sizes) > 1:
        rows = {s: sum(int(x) for x in s.lower().split("x")) for s in sizes}
        print("\nhow cost grows (pit time ratio between consecutive sizes, against the ratio of rows):")
        for method in methods:
            steps = []
            for a, b in zip(sizes, sizes[1:]):
                ra, rb = results.get((a, method), {}), results.get((b, method), {})
                grown = f"{rb['pit'] / ra['pit']:.1f}x" if "pit" in ra and "pit" in rb else "-"
                steps.append(f"{a} -> {b} ({rows[b] / rows[a]:.0f}x rows): {grown}")
            print(f"  {method:<15}" + "; ".join(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
