"""Benchmark of the semantic layer (`seeknal query`).

1. compile latency: p50 / p99 over 1,000 varied queries on the sample project's definitions (resolve + plan + sqlglot
   render, DuckDB dialect; no database);
2. runtime of the compiled SQL vs hand-written SQL for the same questions on the scaled sample data (the scaled
   project is generated, translated and planned into prod with SQLMesh; both SQL texts run on the same warehouse and
   must return the same rows);
3. side by side with Seeknal 2.13's own `seeknal query` (venv .venvs/seeknal, made by scripts/seeknal-golden.sh) on
   the questions it answers correctly: wall clock of each CLI call and whether the values agree. Seeknal reads its
   tables from target/intermediate/*.parquet, which are exported from the same warehouse.

Usage: python bench/semantic.py [--scale 20] [--queries 1000] [--repeat 5] [--skip-runtime] [--skip-seeknal]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")

from seeknal_sqlmesh.contract import data_area  # noqa: E402
from seeknal_sqlmesh.semantic import QueryError, SemanticLayer  # noqa: E402

SEEKNAL = Path(os.environ.get("SEEKNAL_VENV", ROOT / ".venvs" / "seeknal")) / "bin" / "seeknal"
ORDERS_METRICS = ["revenue", "order_count", "aov", "revenue_per_customer", "completed_revenue", "discounted_orders",
                  "avg_order_value", "max_order_value", "min_order_value", "total_margin", "delivered_revenue",
                  "mobile_order_count", "discount_rate", "unique_customers", "cumulative_revenue", "revenue_qtd",
                  "revenue_growth_mom"]
CUSTOMER_METRICS = ["customer_count", "total_lifetime_value", "avg_lifetime_value", "churn_risk_customers"]
ORDER_DIMS = ["status", "channel", "country", "is_first_order", "customer_id__segment", "customer_id__country",
              "order_id__channel", "order_date__week"]
SHARED_DIMS = ["customer_id__segment", "customer_id__country", "segment"]
GRAINS = ["day", "week", "month", "quarter", "year"]
FILTERS = ["channel <> 'web'", "{{ Dimension('customer_id__segment') }} IN ('smb', 'consumer')", "status = 'delivered'",
           "{{ TimeDimension('metric_time', 'month') }} >= '2024-02-01'", "NOT is_first_order OR country = 'SG'",
           "customer_id__country = 'ID'"]


def random_query(rng: random.Random) -> dict:
    if rng.random() < 0.2:
        metrics = rng.sample(CUSTOMER_METRICS, rng.randint(1, 2)) + (rng.sample(ORDERS_METRICS[:6], 1) if rng.random() < 0.5 else [])
        dims = rng.sample(SHARED_DIMS[:2], rng.randint(0, 2))
        grains = GRAINS[2:]
        filters = [f for f in FILTERS if "customer_id" in f]
    else:
        metrics = rng.sample(ORDERS_METRICS, rng.randint(1, 4))
        dims = rng.sample(ORDER_DIMS, rng.randint(0, 3))
        grains = GRAINS
        filters = FILTERS
    if rng.random() < 0.7 or any(m in ("cumulative_revenue", "revenue_qtd", "revenue_growth_mom") for m in metrics):
        dims.append(f"metric_time__{rng.choice(grains[:4] if 'revenue_growth_mom' in metrics else grains)}")
    q = dict(metrics=metrics, group_by=dims)
    if rng.random() < 0.4:
        q["where"] = rng.sample(filters, rng.randint(1, 2))
    if rng.random() < 0.3:
        q["order_by"] = ["-" + metrics[0]]
        q["limit"] = rng.choice([5, 10, 100])
    if rng.random() < 0.2:
        q["time_constraint"] = ("2024-01-15", "2024-03-10")
    return q


def compile_latency(n: int) -> dict:
    sl = SemanticLayer.load(ROOT / "sample_project" / "seeknal")
    rng = random.Random(7)
    times, refused, kinds = [], 0, {"cte": 0, "single": 0}
    sl.compile(metrics=["revenue"], group_by=["status"])  # warm-up (imports, sqlglot dialect tables)
    while len(times) < n:
        q = random_query(rng)
        t0 = time.perf_counter()
        try:
            sql = sl.compile(**q)
        except QueryError:
            refused += 1
            continue
        times.append((time.perf_counter() - t0) * 1000)
        kinds["cte" if sql.lstrip().upper().startswith("WITH") else "single"] += 1
    times.sort()
    return {"n": n, "p50_ms": times[n // 2], "p99_ms": times[int(n * 0.99) - 1], "max_ms": times[-1],
            "mean_ms": statistics.fmean(times), "refused": refused, **kinds}


# ---------------------------------------------------------------- runtime vs hand-written SQL

O, C = "transform.orders_enriched", "transform.customer_lifetime"
DAYS = f"(SELECT CAST(d AS DATE) AS ds FROM generate_series((SELECT MIN(order_date) FROM {O}), (SELECT MAX(order_date) FROM {O}), INTERVAL 1 DAY) t(d))"
QUESTIONS = {
    "revenue, orders and AOV by status": (
        dict(metrics=["revenue", "order_count", "aov"], group_by=["status"]),
        f"SELECT status, SUM(order_total), COUNT(*), SUM(order_total) / NULLIF(COUNT(*), 0) FROM {O} GROUP BY status"),
    "revenue and unique customers by month": (
        dict(metrics=["revenue", "unique_customers"], group_by=["metric_time__month"]),
        f"SELECT CAST(date_trunc('month', order_date) AS DATE), SUM(order_total), COUNT(DISTINCT customer_id) FROM {O} GROUP BY 1"),
    "revenue and customers by segment (two models)": (
        dict(metrics=["revenue", "customer_count"], group_by=["segment"]),
        f"""WITH r AS (SELECT c.segment, SUM(o.order_total) AS revenue FROM {O} o LEFT JOIN {C} c USING (customer_id) GROUP BY 1),
                 k AS (SELECT segment, COUNT(DISTINCT customer_id) AS n FROM {C} GROUP BY 1)
            SELECT COALESCE(r.segment, k.segment), r.revenue, k.n FROM r FULL JOIN k ON r.segment IS NOT DISTINCT FROM k.segment"""),
    "revenue by customer country and channel, filtered": (
        dict(metrics=["revenue"], group_by=["customer_id__country", "channel"], where=["channel <> 'web'"]),
        f"SELECT c.country, o.channel, SUM(o.order_total) FROM {O} o LEFT JOIN {C} c USING (customer_id) WHERE o.channel <> 'web' GROUP BY 1, 2"),
    "month-to-date revenue by day (cumulative)": (
        dict(metrics=["cumulative_revenue"], group_by=["metric_time__day"]),
        f"""WITH d AS (SELECT order_date AS ds, SUM(order_total) AS v FROM {O} GROUP BY 1),
                 s AS (SELECT days.ds, d.v, COUNT(d.v) OVER w AS n, SUM(d.v) OVER w AS total FROM {DAYS} days LEFT JOIN d USING (ds)
                       WINDOW w AS (PARTITION BY date_trunc('month', days.ds) ORDER BY days.ds))
            SELECT ds, total FROM s WHERE n > 0"""),
    "revenue change month over month (offset)": (
        dict(metrics=["revenue_growth_mom"], group_by=["metric_time__month"]),
        f"""WITH m AS (SELECT CAST(date_trunc('month', order_date) AS DATE) AS m, SUM(order_total) AS r FROM {O} GROUP BY 1)
            SELECT m, r - LAG(r) OVER (ORDER BY m) FROM m"""),
    "metrics with their own filters by channel": (
        dict(metrics=["discount_rate", "mobile_order_count", "delivered_revenue"], group_by=["channel"]),
        f"""SELECT channel, COUNT(CASE WHEN discount_code IS NOT NULL AND status <> 'cancelled' THEN 1 END) / COUNT(*),
                   NULLIF(COUNT(CASE WHEN channel = 'mobile_app' THEN 1 END), 0), SUM(CASE WHEN status = 'delivered' THEN order_total END)
            FROM {O} GROUP BY channel"""),
}


def _timed(fn, repeat: int) -> float:
    best = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    return statistics.median(best)


def _norm_rows(rows):
    def norm(v):
        if isinstance(v, float):
            return None if math.isnan(v) else round(v, 4)
        if hasattr(v, "isoformat"):
            return str(v)[:10]
        return v
    return sorted((tuple(norm(v) for v in r) for r in rows), key=str)


def build_scaled(scale: int, work: Path) -> Path:
    from seeknal_sqlmesh.translators import translate_project

    project, out = work / "shopline", work / "translated"
    subprocess.run([sys.executable, str(ROOT / "sample_project" / "generate.py"), "--scale", str(scale), "--project-out", str(project)],
                   check=True, capture_output=True)
    overrides = yaml.safe_load((ROOT / "config.yaml").read_text())
    translate_project(project, out, settings_overrides=overrides)
    sqlmesh = shutil.which("sqlmesh") or str(Path(sys.executable).with_name("sqlmesh"))
    t0 = time.perf_counter()
    subprocess.run([sqlmesh, "-p", str(out), "plan", "--auto-apply", "--no-prompts"], check=True, capture_output=True)
    print(f"  scaled project built: scale {scale}, sqlmesh plan {time.perf_counter() - t0:.1f}s", flush=True)
    return out


def runtime_vs_handwritten(out: Path, repeat: int) -> list:
    con = duckdb.connect(str(data_area(out) / "warehouse.duckdb"), read_only=True)
    rows = con.execute(f"SELECT COUNT(*) FROM {O}").fetchone()[0]
    sl = SemanticLayer.load(out, connection=con)
    results = []
    for question, (q, hand) in QUESTIONS.items():
        sql = sl.compile(**q, pretty=False)
        ours = con.execute(sql).fetchall()
        theirs = con.execute(hand).fetchall()
        same = _norm_rows(ours) == _norm_rows(theirs)
        t_ours = _timed(lambda: con.execute(sql).fetchall(), repeat)
        t_hand = _timed(lambda: con.execute(hand).fetchall(), repeat)
        results.append(dict(question=question, rows=len(ours), same=same, ours_ms=t_ours * 1000, hand_ms=t_hand * 1000,
                            ratio=t_ours / t_hand if t_hand else float("nan")))
    con.close()
    return rows, results


# ---------------------------------------------------------------- Seeknal 2.13 side by side

SEEKNAL_QUESTIONS = {
    "orders by status (10 metrics)": ("revenue,order_count,aov,revenue_per_customer,completed_revenue,discounted_orders,avg_order_value,max_order_value,min_order_value,total_margin", "status"),
    "revenue by month": ("revenue,unique_customers", "order_date__month"),
    "customers by segment": ("customer_count,total_lifetime_value,avg_lifetime_value,churn_risk_customers", "segment"),
    "month-to-date revenue by day": ("cumulative_revenue", "order_date"),
}


def _run(cmd, cwd=None, env=None):
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t0, done


def seeknal_side_by_side(out: Path, work: Path) -> list:
    if not SEEKNAL.exists():
        return [dict(question="(skipped)", note=f"{SEEKNAL} missing: run scripts/seeknal-golden.sh first")]
    fake = work / "seeknal_query_project"
    (fake / "target" / "intermediate").mkdir(parents=True)
    shutil.copytree(work / "shopline" / "seeknal" / "semantic_models", fake / "seeknal" / "semantic_models")
    shutil.copytree(work / "shopline" / "seeknal" / "metrics", fake / "seeknal" / "metrics")
    con = duckdb.connect(str(data_area(out) / "warehouse.duckdb"), read_only=True)
    for name in ("orders_enriched", "customer_lifetime"):
        con.execute(f"COPY (SELECT * FROM transform.{name}) TO '{fake / 'target' / 'intermediate' / f'transform_{name}.parquet'}' (FORMAT parquet)")
    con.close()
    seeknal_cli = str(Path(sys.executable).with_name("seeknal"))
    env = {**os.environ, "COLUMNS": "300"}
    results = []
    for question, (metrics, dims) in SEEKNAL_QUESTIONS.items():
        sk_out = work / f"sk_{len(results)}.parquet"
        t_sk, done = _run([str(SEEKNAL), "query", "--metrics", metrics, "--dimensions", dims, "--limit", "1000000",
                           "--output", str(sk_out), "--project-path", str(fake)], env=env)
        ours_out = work / f"ours_{len(results)}.csv"
        t_cli, ours_done = _run([seeknal_cli, "query", "--metrics", metrics, "--dimensions", dims, "--semantic", str(out / "seeknal" / "semantic"),
                                 "--connection", str(data_area(out) / "warehouse.duckdb"), "--format", "csv", "--output", str(ours_out)])
        t_ctx, _ = _run([seeknal_cli, "query", "--metrics", metrics, "--dimensions", dims, "-p", str(out), "--format", "csv"])
        row = dict(question=question, seeknal_s=t_sk, ours_cli_s=t_cli, ours_cli_sqlmesh_s=t_ctx)
        if done.returncode != 0 or not sk_out.exists():
            row["note"] = "Seeknal failed: " + (done.stdout + done.stderr).strip().splitlines()[-1][:120]
        elif ours_done.returncode != 0:
            row["note"] = "ours failed: " + ours_done.stderr.strip()[-200:]
        else:
            theirs = duckdb.sql(f"SELECT * FROM read_parquet('{sk_out}')").fetchall()
            ours = duckdb.sql(f"SELECT * FROM read_csv_auto('{ours_out}')").fetchall()
            ours_by_key = {str(r[0])[:10]: r[1:] for r in ours}
            agree = all(tuple(round(float(x), 4) if x is not None else None for x in ours_by_key.get(str(r[0])[:10], ())) ==
                        tuple(round(float(x), 4) if x is not None else None for x in r[1:]) for r in theirs)
            row.update(rows_seeknal=len(theirs), rows_ours=len(ours), values_agree=agree)
        results.append(row)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=20)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-runtime", action="store_true")
    ap.add_argument("--skip-seeknal", action="store_true")
    args = ap.parse_args()

    lat = compile_latency(args.queries)
    print(f"compile latency over {lat['n']} queries: p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms, "
          f"max {lat['max_ms']:.2f} ms, mean {lat['mean_ms']:.2f} ms ({lat['single']} single SELECTs, {lat['cte']} with CTEs; "
          f"{lat['refused']} random queries refused as unanswerable)", flush=True)
    if args.skip_runtime:
        return
    with tempfile.TemporaryDirectory(prefix="semantic-bench-") as tmp:
        work = Path(tmp)
        out = build_scaled(args.scale, work)
        n, results = runtime_vs_handwritten(out, args.repeat)
        print(f"\ncompiled vs hand-written SQL on the scale-{args.scale} sample ({n} orders), median of {args.repeat} runs:")
        print(f"  {'question':<50} {'rows':>6} {'same':>5} {'ours ms':>9} {'hand ms':>9} {'ratio':>6}")
        for r in results:
            print(f"  {r['question']:<50} {r['rows']:>6} {str(r['same']):>5} {r['ours_ms']:>9.2f} {r['hand_ms']:>9.2f} {r['ratio']:>6.2f}")
        ratios = [r["ratio"] for r in results]
        print(f"  geometric mean ratio: {math.exp(statistics.fmean(math.log(x) for x in ratios)):.2f}")
        if args.skip_seeknal:
            return
        print("\nside by side with Seeknal 2.13 `seeknal query` (wall clock of one CLI call, same data):")
        for r in seeknal_side_by_side(out, work):
            if "seeknal_s" not in r:
                print(f"  {r['question']}: {r.get('note')}")
                continue
            extra = r.get("note") or f"rows {r['rows_seeknal']} (Seeknal) / {r['rows_ours']} (ours), values agree on Seeknal's rows: {r['values_agree']}"
            print(f"  {r['question']:<32} seeknal {r['seeknal_s']:.2f}s | ours --connection {r['ours_cli_s']:.2f}s | "
                  f"ours in the SQLMesh project {r['ours_cli_sqlmesh_s']:.2f}s | {extra}")


if __name__ == "__main__":
    main()
