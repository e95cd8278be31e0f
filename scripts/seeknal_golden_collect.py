#!/usr/bin/env python3
"""Collect Seeknal 2.13 outputs of two identical runs of sample_project into goldens.

Called by scripts/seeknal-golden.sh (runs with the Seeknal venv's Python: needs duckdb).

Layout written to --out (old *.parquet / exports are removed first):
    <kind>.<name>.parquet                 one per node output, rows sorted (ORDER BY ALL)
    exposure.<name>.parquet               file exposures, read back from the exported file
    exports/<file>                        the exported files as Seeknal wrote them
    feature_store.<entity>.parquet        target/feature_store/<entity>/features.parquet
    query.<name>.parquet                  results of `seeknal query` calls (see QUERIES)
    offline_store.<entity>.<fg>.parquet   /tmp/feature_store/<project>/<entity>/<fg>/data.parquet
    manifest.json

Volatile values: every output is compared between the two runs (rows aligned after
sorting). Cells that differ beyond float noise (relative 1e-9; e.g. NOW()-based values)
are set to NULL in the golden file and their columns listed in `volatile_columns`
(`volatile_cells` counts them). Columns that only differ in the last bits (parallel
float aggregation) are listed in `float_noise_columns`.
"""

from __future__ import annotations

import argparse
import hashlib
import math
from decimal import Decimal
import json
import platform
import subprocess
import sys
import re
import shutil
from importlib.metadata import version
from pathlib import Path

import duckdb

# Why nodes are not executed by the golden run (tags `external` / `seeknal_broken`).
SKIP_REASONS = {
    "source.crm_accounts": "external: PostgreSQL source (needs a live database via profiles.yml connection warehouse_pg)",
    "source.support_tickets": "external: PostgreSQL source with params.query pushdown (needs a live database)",
    "source.clickstream_lake": "external: Iceberg source (needs a Lakekeeper REST catalog and the DuckDB iceberg extension)",
    "source.finance_targets": "external: StarRocks source (needs a live StarRocks FE on port 9030)",
    "transform.account_health": "external: depends on PostgreSQL sources",
    "transform.revenue_vs_target": "external: depends on the StarRocks source",
    "exposure.finance_revenue_mv": "external: creates a StarRocks materialized view",
    "exposure.partner_feed_api": "external: HTTP POST to a partner API",
    "exposure.sales_digest_email": "external: Seeknal 2.13 fails email notifications ('Email notifications not yet implemented'); webhook/slack need the network",
    "model.churn_model": "external: ML training node, out of translation scope; Seeknal 2.13 also fails it ('Cannot find training data for ref feature_group.customer_order_features')",
    "source.payments": "seeknal_broken: sqlite source - DuckDB's sqlite extension must be downloaded at run time, and even with it Seeknal 2.13 registers the data as view `loaded_data`, writes no output, and downstream nodes fail ('Table with name payments does not exist')",
    "transform.payment_reconciliation": "seeknal_broken: depends on the sqlite source source.payments",
    "aggregation.customer_spend_trends": "seeknal_broken: first-order rolling/ratio features fail in Seeknal 2.13 (Binder Error: column \"daily_amount\" must appear in the GROUP BY clause)",
}
METADATA_KINDS = {"semantic_model", "metric"}

# `seeknal query` calls recorded as semantic-layer goldens: name -> (metrics, dimensions,
# extra args). Some are expected to fail in Seeknal 2.13; the error is recorded.
QUERIES = {
    "orders_by_status": ("revenue,order_count,aov,revenue_per_customer,completed_revenue,"
                         "discounted_orders,avg_order_value,max_order_value,min_order_value,"
                         "total_margin", "status", []),
    "orders_by_month": ("revenue,unique_customers", "order_date__month", []),
    "metric_files_by_channel": ("discount_rate,mobile_order_count,delivered_revenue", "channel", []),
    "web_orders_by_country": ("revenue,order_count", "country",
                              ["--filter", "channel = 'web'", "--order-by", "-revenue"]),
    "cumulative_by_day": ("cumulative_revenue", "order_date", []),
    "cumulative_by_month": ("cumulative_revenue", "order_date__month", []),
    "quarter_to_date_by_day": ("revenue_qtd", "order_date", []),
    "derived_offset_by_month": ("revenue_growth_mom", "order_date__month", []),
    "customers_by_segment": ("customer_count,total_lifetime_value,avg_lifetime_value,"
                             "churn_risk_customers", "segment", []),
    "cross_model_by_segment": ("revenue,customer_count", "segment", []),
}
SKIP_TAGS = ("external", "seeknal_broken")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    return h.hexdigest()


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qstr(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def reader(path: Path) -> str:
    p = qstr(str(path))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet({p})"
    if suffix == ".csv":
        return f"read_csv_auto({p})"
    if suffix in (".json", ".jsonl"):
        return f"read_json_auto({p})"
    raise ValueError(f"unsupported output format: {path}")


def describe(con, rel: str):
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]


REL_TOL = 1e-9


def _num(v):
    """float for numeric-looking values (numbers, numeric strings), else None."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float, Decimal)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _sort_key(v):
    if v is None:
        return (0,)
    n = _num(v)
    if n is not None:
        return (1, 0, float(f"{n:.6g}") if math.isfinite(n) else n)
    if isinstance(v, str):
        return (1, 1, v)
    if isinstance(v, dict):
        return (1, 3, tuple((k, _sort_key(x)) for k, x in v.items()))
    if isinstance(v, (list, tuple)):
        return (1, 4, tuple(_sort_key(x) for x in v))
    return (1, 2, str(v))


def _same(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    nx, ny = _num(x), _num(y)
    if nx is not None and ny is not None:
        return math.isclose(nx, ny, rel_tol=REL_TOL, abs_tol=1e-12) or (nx != nx and ny != ny)
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    return x == y


def compare_runs(con, cols):
    """Align the rows of tables a and b (sorted on float-rounded values) and return
    ({column: [a.__rn, ...]} of cells that differ beyond float noise, [float-noise columns])."""
    names = [c for c, _ in cols]
    sel = ", ".join(qident(c) for c in names)
    rows_a = con.execute(f"SELECT __rn, {sel} FROM a").fetchall()
    rows_b = con.execute(f"SELECT {sel} FROM b").fetchall()
    if len(rows_a) != len(rows_b):
        return {c: [r[0] for r in rows_a] for c in names}, []
    rows_a.sort(key=lambda r: tuple(_sort_key(v) for v in r[1:]))
    rows_b.sort(key=lambda r: tuple(_sort_key(v) for v in r))
    diff: dict[str, list[int]] = {}
    noise: set[str] = set()
    for ra, rb in zip(rows_a, rows_b):
        for i, c in enumerate(names):
            x, y = ra[i + 1], rb[i]
            if x == y or (x is None and y is None):
                continue
            if _same(x, y):
                noise.add(c)
            else:
                diff.setdefault(c, []).append(ra[0])
    return diff, [c for c in names if c in noise and c not in diff]


def write_golden(con, src_a: Path, src_b: Path | None, dest: Path) -> dict:
    """Copy one output into dest (sorted), normalising volatile values. Returns info."""
    con.execute(f"CREATE OR REPLACE TABLE a AS SELECT row_number() OVER () AS __rn, * "
                f"FROM {reader(src_a)}")
    cols = [c for c in describe(con, "a") if c[0] != "__rn"]
    diff, float_noise = {}, []
    if src_b is not None and src_b.exists():
        con.execute(f"CREATE OR REPLACE TABLE b AS SELECT * FROM {reader(src_b)}")
        if describe(con, "b") != cols:
            diff = {c: [] for c, _ in cols}  # schema changed between runs
            con.execute("UPDATE a SET " + ", ".join(f"{qident(c)} = NULL" for c, _ in cols))
        else:
            diff, float_noise = compare_runs(con, cols)
            for c, rns in diff.items():
                con.execute(f"UPDATE a SET {qident(c)} = NULL WHERE __rn IN "
                            f"(SELECT unnest(?::BIGINT[]))", [rns])
    volatile = [c for c, _ in cols if c in diff]
    rounded = [c for c, t in cols if c in float_noise and t in ("DOUBLE", "FLOAT")]
    for c in rounded:  # make the golden bytes stable across regenerations
        q = qident(c)
        con.execute(f"UPDATE a SET {q} = round({q}, 11 - CAST(floor(log10(abs({q}))) AS INTEGER)) "
                    f"WHERE {q} IS NOT NULL AND isfinite({q}) AND {q} <> 0")
    dest.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * EXCLUDE (__rn) FROM a ORDER BY ALL) TO {qstr(str(dest))} "
                f"(FORMAT PARQUET, COMPRESSION ZSTD)")
    rows = con.execute("SELECT count(*) FROM a").fetchone()[0]
    info = {
        "golden": dest.name,
        "row_count": rows,
        "columns": [{"name": c, "type": t} for c, t in cols],
        "volatile_columns": volatile,
    }
    if volatile:
        info["volatile_cells"] = {c: len(diff[c]) for c in volatile}
        info["volatile_normalization"] = (
            "cells whose value differed between two identical runs (e.g. NOW()-based) "
            "are NULL in the golden file")
    if float_noise:
        info["float_noise_columns"] = float_noise
        info["float_noise_note"] = (
            f"values differ between identical runs in the last bits (parallel float "
            f"aggregation); compare with a relative tolerance of ~{REL_TOL}")
    if rounded:
        info["rounded_columns"] = rounded
        info["rounded_note"] = "float-noise DOUBLE columns are rounded to 12 significant digits in the golden"
    return info


def rule_outcome(state: dict) -> dict:
    meta = dict(state.get("metadata") or {})
    for k in ("project_name", "workspace_path"):
        meta.pop(k, None)
    severity = meta.get("severity", "error")
    if state.get("status") == "failed":
        outcome = "fail"
    elif isinstance(meta.get("warned"), int) and meta.get("warned", 0) > 0:
        outcome = "warn"
    elif meta.get("passed") is False or (isinstance(meta.get("failed"), int) and meta["failed"] > 0):
        outcome = "warn" if severity == "warn" else "fail"
    else:
        outcome = "pass"
    return {"outcome": outcome, "severity": severity, "details": meta}


def parse_warnings(text: str) -> list[str]:
    """The '  - ...' items of `seeknal parse`'s "Validation warnings" block."""
    out: list[str] = []
    in_block = False
    for line in text.splitlines():
        if "Validation warnings" in line:
            in_block = True
            continue
        if not in_block:
            continue
        if not line.strip() or line.startswith("["):
            break
        if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d - ", line):
            continue  # interleaved log record (e.g. Seeknal's /tmp "Security Warning")
        if line.startswith("  - "):
            out.append(line[4:].strip())
        elif out:
            out[-1] += " " + line.strip()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-a", type=Path, required=True)
    ap.add_argument("--run-b", type=Path, required=True)
    ap.add_argument("--project-name", required=True)
    ap.add_argument("--source-project", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--run-date", required=True)
    args = ap.parse_args()

    proj_a = args.run_a / args.project_name
    proj_b = args.run_b / args.project_name
    tgt_a, tgt_b = proj_a / "target", proj_b / "target"
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("*.parquet")) + [out / "manifest.json"]:
        old.unlink(missing_ok=True)
    shutil.rmtree(out / "exports", ignore_errors=True)

    manifest_a = json.loads((tgt_a / "manifest.json").read_text())
    state_a = json.loads((tgt_a / "run_state.json").read_text())["nodes"]
    run_log = (args.run_a / "run.log").read_text(errors="replace")
    con = duckdb.connect()

    nodes: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for node_id in sorted(manifest_a["nodes"]):
        node = manifest_a["nodes"][node_id]
        kind, name = node_id.split(".", 1)
        cfg = node.get("config") or {}
        rel_file = str(Path(node["file_path"]).resolve().relative_to(proj_a.resolve()))
        entry = {"kind": kind, "name": name, "file": rel_file, "tags": node.get("tags") or []}
        st = state_a.get(node_id)
        skip_tags = [t for t in SKIP_TAGS if t in entry["tags"]]
        if st is None:
            entry["status"] = "skipped" if skip_tags else "not_run"
            reason = SKIP_REASONS.get(node_id) or (f"tag {skip_tags[0]}" if skip_tags else "not executed")
            entry["skip_reason"] = reason
            skipped[node_id] = reason
            nodes[node_id] = entry
            continue
        entry["status"] = st["status"]
        entry["seeknal_row_count"] = st.get("row_count")
        if st["status"] != "success":
            entry["error"] = (st.get("metadata") or {}).get("error")

        src_rel = None
        if kind in ("source", "transform", "feature_group", "profile", "second_order_aggregation"):
            src_rel = Path("target/intermediate") / f"{kind}_{name}.parquet"
        elif kind == "aggregation":
            src_rel = Path("target/aggregation") / name / "result.parquet"
        elif kind == "exposure" and cfg.get("type") == "file":
            path = (cfg.get("params") or {}).get("path") or cfg.get("url")
            src_rel = Path(path)
            entry["exposure"] = {"type": "file", "format": (cfg.get("params") or {}).get("format", "csv"),
                                 "path": path}
        elif kind == "rule":
            entry["rule"] = rule_outcome(st)
        elif kind in METADATA_KINDS:
            entry["note"] = "metadata node: Seeknal only validates it"

        if src_rel is not None:
            src_a = proj_a / src_rel
            if not src_a.exists():
                entry["output"] = None
                entry["note"] = f"Seeknal reported {st['status']} but wrote no {src_rel}"
            else:
                info = write_golden(con, src_a, proj_b / src_rel, out / f"{node_id}.parquet")
                info["seeknal_output"] = str(src_rel)
                entry.update(info)
                if kind == "exposure":
                    (out / "exports").mkdir(exist_ok=True)
                    shutil.copyfile(src_a, out / "exports" / src_a.name)
                    entry["exposure"]["raw_copy"] = f"exports/{src_a.name}"
                    entry["exposure"]["raw_sha256"] = sha256(src_a)
            if kind == "feature_group":
                meta = tgt_a / "intermediate" / f"feature_group_{name}_meta.json"
                entry["fg_meta"] = json.loads(meta.read_text()) if meta.exists() else None
        nodes[node_id] = entry

    # ------------------------------------------------------------ feature store
    feature_store = {}
    consolidation_log = {}
    for m in re.finditer(r"Consolidated entity '([^']+)': (\d+) FGs, (\d+) rows", run_log):
        consolidation_log[m.group(1)] = {"status": "success", "fg_count": int(m.group(2)),
                                         "row_count": int(m.group(3))}
    for m in re.finditer(r"Entity consolidation failed for '([^']+)': (.*?)(?=\n\[|\n\n|\Z)", run_log, re.S):
        consolidation_log[m.group(1)] = {"status": "failed",
                                         "error": " ".join(m.group(2).split())}
    for entity, info in sorted(consolidation_log.items()):
        fs_a = tgt_a / "feature_store" / entity / "features.parquet"
        rec = dict(info)
        if info["status"] == "success" and fs_a.exists():
            rec.update(write_golden(con, fs_a, tgt_b / "feature_store" / entity / "features.parquet",
                                    out / f"feature_store.{entity}.parquet"))
            rec["seeknal_output"] = f"target/feature_store/{entity}/features.parquet"
            cat = json.loads((fs_a.parent / "_entity_catalog.json").read_text())
            cat.pop("consolidated_at", None)  # wall-clock timestamps
            for fg in cat.get("feature_groups", {}).values():
                fg.pop("last_updated", None)
            rec["entity_catalog"] = cat
        feature_store[entity] = rec

    offline = {}
    off_a, off_b = args.run_a / "offline_store", args.run_b / "offline_store"
    if off_a.exists():
        for data in sorted(off_a.glob("*/*/data.parquet")):
            entity, fg = data.parent.parent.name, data.parent.name
            rec = write_golden(con, data, off_b / entity / fg / "data.parquet",
                               out / f"offline_store.{entity}.{fg}.parquet")
            rec["seeknal_output"] = f"/tmp/feature_store/{args.project_name}/{entity}/{fg}/data.parquet"
            md = json.loads((data.parent / "_metadata.json").read_text())
            rec["versions"] = [{k: v for k, v in ver.items() if k not in ("version", "timestamp")}
                               for ver in md.get("versions", [])]
            offline[f"{entity}.{fg}"] = rec

    # ------------------------------------------------------------ semantic queries
    seeknal_bin = str(Path(sys.executable).parent / "seeknal")
    queries = {}
    for qname, (metrics, dims, extra) in QUERIES.items():
        base = [seeknal_bin, "query", "--metrics", metrics, "--dimensions", dims,
                "--limit", "100000", *extra]
        rec = {"metrics": metrics.split(","), "dimensions": dims.split(","), "extra_args": extra}
        comp = subprocess.run(base + ["--compile"], cwd=proj_a, capture_output=True, text=True)
        sql_lines = [ln for ln in comp.stdout.splitlines() if ln.strip() and "Security Warning" not in ln]
        rec["compiled_sql"] = "\n".join(sql_lines) if comp.returncode == 0 else None
        results = {}
        for label, proj in (("a", proj_a), ("b", proj_b)):
            dest = proj / "target" / f"_golden_query_{qname}.parquet"
            run = subprocess.run(base + ["--output", str(dest)], cwd=proj, capture_output=True, text=True)
            text = "\n".join(ln for ln in (run.stdout + run.stderr).splitlines()
                             if "Security Warning" not in ln)
            results[label] = (run.returncode, dest, text)
        rc, dest_a, text = results["a"]
        if dest_a.exists():
            rec["status"] = "success"
            rec.update(write_golden(con, dest_a, results["b"][1], out / f"query.{qname}.parquet"))
        else:
            rec["status"] = "failed"
            err = re.search(r"\[ERR\] (.*)", text, re.S)
            rec["error"] = " ".join((err.group(1) if err else text).split())[:600]
        queries[qname] = rec

    # ------------------------------------------------------------ manifest
    data_dir = args.source_project / "data"
    rules = {nid: e["rule"]["outcome"] for nid, e in nodes.items() if "rule" in e}
    manifest = {
        "generated_by": "scripts/seeknal-golden.sh",
        "seeknal_version": version("seeknal"),
        "duckdb_version": version("duckdb"),
        "python_version": platform.python_version(),
        "project": args.project_name,
        "command": args.command,
        "run_date": args.run_date,
        "run_exit_code": int((args.run_a / "run.rc").read_text().strip()),
        "row_order": "every golden parquet is written with ORDER BY ALL",
        "input_data_sha256": {p.name: sha256(p) for p in sorted(data_dir.iterdir()) if p.is_file()},
        "parse_warnings": [
            w.replace(str(proj_a) + "/", "")
            for w in parse_warnings((args.run_a / "parse.log").read_text(errors="replace"))
        ],
        "summary": {
            "nodes": len(nodes),
            "executed": sum(1 for e in nodes.values() if e["status"] == "success"),
            "failed": sorted(n for n, e in nodes.items() if e["status"] == "failed"),
            "skipped": len(skipped),
            "rule_outcomes": rules,
        },
        "skipped": skipped,
        "nodes": nodes,
        "feature_store": feature_store,
        "offline_store": offline,
        "semantic_queries": queries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")
    print(f"{len(nodes)} nodes, {manifest['summary']['executed']} executed, {len(skipped)} skipped; "
          f"rules: " + ", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in rules.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
