"""Benchmark: the scaled sample project run by Seeknal 2.13 and by its SQLMesh translation, side by side.

Four steps, each timed as the user would run it (one subprocess per command: wall clock, CPU = user + sys of the
command's process tree, and peak RSS), medians of --repeat runs (default 3):

1. full build      `seeknal run` on a fresh copy (no target/)  vs  `sqlmesh plan --auto-apply` into prod on a freshly
                   translated project (embedded DuckDB). Translating is shown on its own row.
2. no-op re-run    a second `seeknal run` with nothing changed  vs  `sqlmesh run` (2a) and `sqlmesh plan` with no
                   changes (2b).
3. one change      one transform's SQL gets a computed column in the Seeknal copy, then `seeknal run`  vs
                   `seeknal translate` + `sqlmesh plan dev --auto-apply` (a dev environment: the SQLMesh workflow).
4. our commands    on a third copy, against `seeknal run` after the edit / with nothing changed:
                   4a cold `seeknal plan dev --auto-apply -p PROJECT` after the same edit (translation included;
                      SQLMesh refuses an end date for a prod plan, so our prod build and dev plans end today),
                   4b cold no-op `seeknal run -p PROJECT --end RUN_DATE`, the second one after the build (the first,
                      4b', loads SQLMesh; the second sees unchanged state files, cron and source files and answers
                      without SQLMesh),
                   4c inside `seeknal dev` (one warm process, `workflow/dev.py`): one cycle after a second edit of the
                      same transform (poll, translate, reload the models, plan and apply dev),
                   4d inside `seeknal dev`: one poll and cycle after the file is saved again unchanged (the poll sees
                      the mtime move, hashes the file, finds the same content: nothing to translate, plan or run).
                   Targets (ours / seeknal): 4a <= 1.0, 4b <= 1.0, 4c <= 0.3, 4d <= 0.1. 4c/4d run in a child process
                   that imports `seeknal_sqlmesh.workflow.dev` and times each cycle (perf_counter, process_time).

Seeknal runs exactly like scripts/seeknal-golden.sh runs it (same arguments, PATH with the venv's `uv`, UV_PYTHON,
VIRTUAL_ENV, COLUMNS). Two deliberate differences: DuckDB is left multi-threaded for both tools (the golden script's
single-thread hook is for byte-stable goldens; `--single-thread` applies it to both tools here), and the project
copy is named `shopline_bench_<pid>` instead of `shopline`, so its offline store /tmp/feature_store/<name> cannot
collide with a concurrent golden run.

SQLMesh's plan gets `--execution-time <RUN_DATE + 1> 23:59:59`, as tests/test_parity_seeknal.py does: the last interval
is RUN_DATE (the day `seeknal run --date RUN_DATE` processes), also for the `0 3 * * *` cron. `sqlmesh run` has no
`--execution-time` in 0.236, so it gets `--end RUN_DATE` (a date end is inclusive), the same last interval: the re-run
considers intervals deterministically and finds none missing.

Peak memory: `/usr/bin/time` (GNU) when present, else a small Python wrapper reading RUSAGE_CHILDREN in a fresh
process. Either way it is the largest single process of the command's tree (Seeknal's `uv run` children included).

Without Seeknal's venv (or with --ours-only) only our absolute numbers are printed and the ratios are n/a.

Usage: python bench/run_vs_seeknal.py [--scale 20] [--repeat 3] [--change web_sessions|daily_sales|orders_enriched]
"""

from __future__ import annotations

import argparse
import datetime as dt
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
SEEKNAL_VENV = Path(os.environ.get("SEEKNAL_VENV", ROOT / ".venvs" / "seeknal"))
GOLDEN_SCRIPT = ROOT / "scripts" / "seeknal-golden.sh"
GOLDEN_MANIFEST = ROOT / "tests" / "golden" / "seeknal-2.13" / "manifest.json"
SETTINGS = ROOT / "config.yaml"  # what `make demo` translates with
GNU_TIME = Path("/usr/bin/time")
OFFLINE_STORE_ROOT = Path("/tmp/feature_store")  # hard-coded in Seeknal 2.13

# The transform edit of step 3: (file, unique text, replacement). Each adds one computed column at the end of the
# final SELECT list. orders_enriched fails in Seeknal 2.13's incremental re-run (see the note printed with it).
CHANGES = {
    "web_sessions": (
        "seeknal/transforms/web_sessions.yml",
        "AS late_events\n",
        "AS late_events,\n    ROUND(COUNT(*) FILTER (WHERE event_type = 'product_view') / COUNT(*), 3) AS view_share\n",
    ),
    "daily_sales": (
        "seeknal/transforms/daily_sales.yml",
        "AS avg_order_value\n",
        "AS avg_order_value,\n    ROUND(SUM(order_total) * 1.1, 2) AS revenue_with_tax\n",
    ),
    "orders_enriched": (
        "seeknal/transforms/orders_enriched.yml",
        "AS is_first_order\n",
        "AS is_first_order,\n    ROUND(COALESCE(t.net_amount, 0) * 1.1, 2) AS order_total_with_tax\n",
    ),
}
CHANGE_NOTES = {
    "orders_enriched": "Seeknal 2.13 does not re-register cached upstream transforms as `transform.<name>` views on an "
    "incremental re-run, so this multi-statement transform (bare `transform.order_lines`) fails there.",
}

SINGLE_THREAD_HOOK = ROOT / "scripts" / "single_thread_duckdb"  # the golden script's sitecustomize hook

# Runs a command, then writes "<wall seconds> <max RSS KB of the command's process tree> <user+sys seconds>" to a
# file (fallback for hosts without GNU time). RUSAGE_CHILDREN of this fresh process covers exactly that one command.
RSS_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); rc = subprocess.call(sys.argv[2:]); t = time.perf_counter() - t\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{t} {u.ru_maxrss} {u.ru_utime + u.ru_stime}')\n"
    "sys.exit(rc)\n"
)

# Step 4c/4d: `seeknal dev`'s loop in one child process; each measured cycle's wall and CPU as one JSON line.
DEV_DRIVER = """
import json, re, sys, time
from pathlib import Path
from seeknal_sqlmesh.contract import find_project
from seeknal_sqlmesh.workflow.dev import DevLoop

root, rel, settings, alias = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
import yaml
loop = DevLoop(find_project(root, must_exist=False), "dev",
               translate_options={"settings_overrides": yaml.safe_load(Path(settings).read_text())})
first = loop.cycle()  # start-up: opens the context, dev is already planned
if first.error:
    sys.exit("start-up cycle failed: " + first.error)

def timed(label):
    wall, cpu = time.perf_counter(), time.process_time()
    cycle = loop.cycle(loop.poll())
    out = {"label": label, "s": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
           "summary": cycle.summary("dev"), "error": cycle.error, "changes": len(cycle.changes)}
    print(json.dumps(out), flush=True)
    if cycle.error:
        sys.exit(label + " failed: " + cycle.error)

path = root / rel
text = path.read_text()
path.write_text(re.sub(r"AS " + alias + r"\\b", "AS " + alias + "_again", text, count=1))
timed("edit")
path.write_text(path.read_text())  # saved again, same content
timed("noop")
loop.close()
"""


class Failed(Exception):
    pass


def run_date() -> str:
    """The date the golden `seeknal run --date` uses: RUN_DATE in scripts/seeknal-golden.sh, else the manifest's."""
    if GOLDEN_SCRIPT.is_file():
        found = re.search(r'^RUN_DATE="(\d{4}-\d{2}-\d{2})"', GOLDEN_SCRIPT.read_text(), re.M)
        if found:
            return found.group(1)
    return json.loads(GOLDEN_MANIFEST.read_text())["run_date"]


def gnu_time_available() -> bool:
    if not GNU_TIME.is_file():
        return False
    probe = subprocess.run([str(GNU_TIME), "-f", "%M", "true"], capture_output=True, text=True)
    return probe.returncode == 0 and probe.stderr.strip().isdigit()


class Runner:
    def __init__(self, work: Path, use_gnu_time: bool):
        self.work = work
        self.use_gnu_time = use_gnu_time
        self.counter = 0

    def measure(self, label: str, cmd: list[str], *, cwd: Path, env: dict) -> dict:
        """Run `cmd`; return wall seconds, CPU seconds (user + sys of its process tree), peak MB and stdout. A non-zero
        exit raises Failed with the output tail."""
        self.counter += 1
        stats = self.work / f"stats.{self.counter}"
        if self.use_gnu_time:
            wrapped = [str(GNU_TIME), "-f", "%M %U %S", "-o", str(stats), *cmd]
        else:
            wrapped = [sys.executable, "-c", RSS_WRAPPER, str(stats), *cmd]
        start = time.perf_counter()
        done = subprocess.run(wrapped, cwd=cwd, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            tail = "\n".join((done.stdout + "\n" + done.stderr).strip().splitlines()[-40:])
            raise Failed(f"{label} failed (exit {done.returncode}): {' '.join(cmd)}\n  cwd: {cwd}\n--- output tail ---\n{tail}")
        fields = stats.read_text().split()
        if self.use_gnu_time:
            kb, cpu = int(fields[-3]), float(fields[-2]) + float(fields[-1])
        else:
            seconds, kb, cpu = float(fields[0]), int(fields[1]), float(fields[2])
        return {"s": seconds, "cpu": cpu, "mb": kb / 1024, "out": done.stdout + done.stderr}


def combine(*results: dict) -> dict:
    return {"s": sum(r["s"] for r in results), "cpu": sum(r["cpu"] for r in results),
            "mb": max(r["mb"] for r in results), "out": "".join(r["out"] for r in results)}


def added_alias(change: str) -> str:
    """The column the step-3 edit adds (the dev loop's edit renames it)."""
    return re.findall(r"AS (\w+)\n", CHANGES[change][2])[-1]


def ours(runner: Runner, base: Path, rep: int, args, date: str, env: dict) -> dict:
    """Step 4: our own commands, cold (one process each) and inside `seeknal dev` (one warm process)."""
    seeknal_cli = [sys.executable, "-m", "seeknal_sqlmesh.cli"]
    project = runner.work / "ours" / f"src_{rep}" / "shopline"
    shutil.copytree(base, project)
    settings = ["--settings", str(SETTINGS)]
    cwd = runner.work
    r: dict = {}
    r["our_full"] = runner.measure("seeknal apply (prod, full build)",
                                   [*seeknal_cli, "apply", "-p", str(project), *settings], cwd=cwd, env=env)
    our_run = [*seeknal_cli, "run", "-p", str(project), "--end", date]
    r["our_run1"] = runner.measure("seeknal run (first after the plan)", our_run, cwd=cwd, env=env)
    r["our_noop"] = runner.measure("seeknal run (no change)", our_run, cwd=cwd, env=env)
    if "Nothing to run" not in r["our_noop"]["out"]:
        raise Failed("seeknal run after the build was expected to have nothing to do:\n" + r["our_noop"]["out"][-3000:])
    edit_transform(project, args.change)
    r["our_plan_dev"] = runner.measure("seeknal plan dev --auto-apply (after the edit)",
                                       [*seeknal_cli, "plan", "dev", "--auto-apply", "-p", str(project), *settings],
                                       cwd=cwd, env=env)
    if f"transform.{args.change}" not in r["our_plan_dev"]["out"]:
        raise Failed(f"seeknal plan dev did not mention transform.{args.change}:\n" + r["our_plan_dev"]["out"][-3000:])
    rel = CHANGES[args.change][0]
    done = subprocess.run([sys.executable, "-c", DEV_DRIVER, str(project), rel, str(SETTINGS), added_alias(args.change)],
                          cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failed(f"seeknal dev driver failed:\n{(done.stdout + done.stderr)[-3000:]}")
    cycles = {c["label"]: c for c in (json.loads(line) for line in done.stdout.splitlines() if line.startswith("{"))}
    if not cycles["edit"]["changes"]:
        raise Failed(f"the dev loop applied nothing after the edit: {cycles['edit']['summary']}")
    for label in ("edit", "noop"):
        c = cycles[label]
        r[f"dev_{label}"] = {"s": c["s"], "cpu": c["cpu"], "mb": 0.0, "out": c["summary"]}
    return r


def seeknal_executed(out: str) -> str:
    if "No changes detected" in out:
        return "0"
    found = re.search(r"Executed:\s+(\d+)", out)
    return found.group(1) if found else "?"


def sqlmesh_executed(out: str) -> str:
    return str(len(re.findall(r"^\[\d+/\d+\] ", out, re.M)))


def edit_transform(project: Path, change: str) -> None:
    rel, old, new = CHANGES[change]
    path = project / rel
    text = path.read_text()
    if text.count(old) != 1:
        raise Failed(f"cannot apply the step-3 edit: {old!r} is not in {path} exactly once")
    path.write_text(text.replace(old, new))


def one_repeat(runner: Runner, base: Path, rep: int, args, date: str, seeknal_env: t.Optional[dict],
               sqlmesh_env: dict) -> dict:
    seeknal_bin = str(SEEKNAL_VENV / "bin" / "seeknal")
    sqlmesh_bin = str(Path(sys.executable).with_name("sqlmesh")) if Path(sys.executable).with_name("sqlmesh").exists() \
        else (shutil.which("sqlmesh") or "sqlmesh")
    translate = [sys.executable, "-m", "seeknal_sqlmesh.cli", "translate", "-q", "--settings", str(SETTINGS)]
    execution_time = f"{(dt.date.fromisoformat(date) + dt.timedelta(days=1)).isoformat()} 23:59:59"
    seeknal_run = [seeknal_bin, "run", "--profile", "profiles.yml", "--date", date, "--no-materialize",
                   "--exclude-tags", "external", "--exclude-tags", "seeknal_broken"]
    r: dict = {}

    # ---- Seeknal: its own copy, named uniquely (the offline store is /tmp/feature_store/<dir name>).
    name = f"shopline_bench_{os.getpid()}_{rep}"
    seeknal_dir = runner.work / "seeknal" / name
    store = OFFLINE_STORE_ROOT / name
    if seeknal_env is not None:
        shutil.copytree(base, seeknal_dir)
        shutil.rmtree(store, ignore_errors=True)
    try:
        if seeknal_env is None:
            raise LookupError  # no Seeknal venv: our numbers only
        r["sk_full"] = runner.measure("seeknal run (full build)", seeknal_run, cwd=seeknal_dir, env=seeknal_env)
        r["sk_noop"] = runner.measure("seeknal run (no change)", seeknal_run, cwd=seeknal_dir, env=seeknal_env)
        edit_transform(seeknal_dir, args.change)
        r["sk_change"] = runner.measure("seeknal run (after the edit)", seeknal_run, cwd=seeknal_dir, env=seeknal_env)
        r["sk_help"] = runner.measure("seeknal --help", [seeknal_bin, "--help"], cwd=seeknal_dir, env=seeknal_env)
        r["sk_parse"] = runner.measure("seeknal parse", [seeknal_bin, "parse"], cwd=seeknal_dir, env=seeknal_env)
    except LookupError:
        pass
    finally:
        shutil.rmtree(store, ignore_errors=True)

    # ---- SQLMesh: a second copy of the Seeknal project as the translation source (the translated project's file
    # exposures write into <seeknal project>/target/exports, so the two tools never share files).
    source = runner.work / "sqlmesh" / f"src_{rep}" / "shopline"
    out = runner.work / "sqlmesh" / f"out_{rep}"
    shutil.copytree(base, source)
    sm = [sqlmesh_bin, "-p", str(out)]
    cwd = runner.work  # SQLMesh writes logs/ into the working directory
    r["tr_full"] = runner.measure("seeknal translate", [*translate, str(source), "-o", str(out)], cwd=cwd, env=sqlmesh_env)
    r["sm_full"] = runner.measure("sqlmesh plan (prod, full build)",
                                  [*sm, "plan", "--auto-apply", "--no-prompts", "--execution-time", execution_time],
                                  cwd=cwd, env=sqlmesh_env)
    r["sm_run"] = runner.measure("sqlmesh run (no change)", [*sm, "run", "--end", date], cwd=cwd, env=sqlmesh_env)
    r["sm_plan_noop"] = runner.measure("sqlmesh plan (no change)",
                                       [*sm, "plan", "--auto-apply", "--no-prompts", "--execution-time", execution_time],
                                       cwd=cwd, env=sqlmesh_env)
    if "No changes to plan" not in r["sm_plan_noop"]["out"]:
        raise Failed("sqlmesh plan after the build was expected to find no changes:\n" + r["sm_plan_noop"]["out"][-3000:])
    edit_transform(source, args.change)
    r["tr_change"] = runner.measure("seeknal translate (after the edit)", [*translate, str(source), "-o", str(out)],
                                    cwd=cwd, env=sqlmesh_env)
    r["sm_dev"] = runner.measure("sqlmesh plan dev (after the edit)",
                                 [*sm, "plan", "dev", "--auto-apply", "--no-prompts",
                                  "--execution-time", execution_time],
                                 cwd=cwd, env=sqlmesh_env)
    if f"transform.{args.change}" not in r["sm_dev"]["out"] and f"transform__dev.{args.change}" not in r["sm_dev"]["out"]:
        raise Failed(f"sqlmesh plan dev did not mention the edited transform.{args.change}:\n" + r["sm_dev"]["out"][-3000:])
    r["sm_help"] = runner.measure("sqlmesh --help", [sqlmesh_bin, "--help"], cwd=cwd, env=sqlmesh_env)
    r["sm_info"] = runner.measure("sqlmesh info", [*sm, "info"], cwd=cwd, env=sqlmesh_env)
    r.update(ours(runner, base, rep, args, date, sqlmesh_env))
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20, help="data scale for sample_project/generate.py (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="repeat every measurement N times, report the median")
    parser.add_argument("--ours-only", action="store_true", help="skip Seeknal 2.13 (ratios n/a)")
    parser.add_argument("--change", choices=sorted(CHANGES), default="web_sessions",
                        help="transform edited in step 3 (default web_sessions)")
    parser.add_argument("--single-thread", action="store_true",
                        help="run DuckDB single-threaded in both tools (the golden script's hook)")
    parser.add_argument("--rss-wrapper", action="store_true", help="measure with the Python wrapper even if /usr/bin/time exists")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    args = parser.parse_args()

    seeknal_bin, uv_bin = SEEKNAL_VENV / "bin" / "seeknal", SEEKNAL_VENV / "bin" / "uv"
    with_seeknal = not args.ours_only
    if with_seeknal and not (seeknal_bin.exists() and uv_bin.exists()):
        print(f"Seeknal 2.13 venv not found at {SEEKNAL_VENV} (needs bin/seeknal and bin/uv): printing our numbers "
              f"only, ratios n/a. Create it with\n"
              f"  scripts/seeknal-golden.sh            # creates .venvs/seeknal, then records the goldens\n"
              f"or by hand:\n"
              f"  python3 -m venv {SEEKNAL_VENV} && {SEEKNAL_VENV}/bin/pip install seeknal==2.13.0 duckdb==1.5.6 uv\n"
              f"(SEEKNAL_VENV=/path overrides the location)", file=sys.stderr)
        with_seeknal = False

    date = run_date()
    use_gnu_time = not args.rss_wrapper and gnu_time_available()
    work = Path(tempfile.mkdtemp(prefix="run_vs_seeknal."))
    try:
        base = work / "base" / "shopline"
        gen = subprocess.run([sys.executable, str(ROOT / "sample_project" / "generate.py"), "--scale", str(args.scale),
                              "--project-out", str(base)], capture_output=True, text=True)
        if gen.returncode != 0:
            print(f"generate.py failed:\n{gen.stdout}{gen.stderr}", file=sys.stderr)
            return 1
        for leftover in ("target", "generate.py", "__pycache__"):  # as the golden script's copy
            p = base / leftover
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        rows = {m.group(1): int(m.group(2).replace(",", "")) for m in re.finditer(r"^(\S+)\s+([\d,]+) rows", gen.stdout, re.M)}

        common = dict(os.environ)
        common.pop("VIRTUAL_ENV", None)
        if args.single_thread:
            common["PYTHONPATH"] = str(SINGLE_THREAD_HOOK)
        seeknal_env = {**common, "PATH": f"{SEEKNAL_VENV / 'bin'}{os.pathsep}{common.get('PATH', '')}",
                       "UV_PYTHON": str(SEEKNAL_VENV / "bin" / "python"), "VIRTUAL_ENV": str(SEEKNAL_VENV), "COLUMNS": "300"}
        sqlmesh_env = {**common, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"}

        runner = Runner(work, use_gnu_time)
        print(f"scale {args.scale}: {rows.get('orders.json', '?')} orders, {rows.get('order_items.parquet', '?')} order lines, "
              f"{rows.get('web_events.jsonl', '?')} web events; seeknal --date {date}; sqlmesh plan --execution-time "
              f"'{(dt.date.fromisoformat(date) + dt.timedelta(days=1)).isoformat()} 23:59:59', run --end {date}; "
              f"step 3 edits transform.{args.change}; repeat {args.repeat}; DuckDB "
              f"{'single-threaded' if args.single_thread else 'multi-threaded'}; peak RSS via "
              f"{'/usr/bin/time' if use_gnu_time else 'python RUSAGE_CHILDREN wrapper'}", flush=True)
        results = []
        for rep in range(args.repeat):
            try:
                results.append(one_repeat(runner, base, rep, args, date, seeknal_env if with_seeknal else None,
                                          sqlmesh_env))
            except Failed as e:
                print(f"\nFAILED: {e}", file=sys.stderr)
                if args.change in CHANGE_NOTES:
                    print(f"note: {CHANGE_NOTES[args.change]}", file=sys.stderr)
                return 1

        def median_of(picked: list) -> dict:
            return {"s": statistics.median(p["s"] for p in picked), "cpu": statistics.median(p["cpu"] for p in picked),
                    "mb": max(p["mb"] for p in picked), "out": picked[-1]["out"]}

        def med(key: str) -> t.Optional[dict]:
            picked = [r[key] for r in results if key in r]
            return median_of(picked) if picked else None

        def med_sum(*keys: str) -> dict:
            return median_of([combine(*(r[k] for k in keys)) for r in results])

        table = [
            ("1  full build", med("sk_full"), med("sm_full"), "seeknal run (fresh target/) | sqlmesh plan --auto-apply (prod)"),
            ("1+ full build incl. translate", med("sk_full"), med_sum("tr_full", "sm_full"), "same | seeknal translate + plan"),
            ("2a no-op re-run: sqlmesh run", med("sk_noop"), med("sm_run"), "seeknal run | sqlmesh run --end DATE"),
            ("2b no-op re-run: sqlmesh plan", med("sk_noop"), med("sm_plan_noop"), "seeknal run | sqlmesh plan (no changes)"),
            (f"3  {args.change} changed", med("sk_change"), med_sum("tr_change", "sm_dev"),
             "seeknal run | seeknal translate + sqlmesh plan dev --auto-apply"),
            ("   3 = translate", None, med("tr_change"), ""),
            ("     + plan dev", None, med("sm_dev"), ""),
            ("-- CLI start-up (--help)", med("sk_help"), med("sm_help"), "seeknal --help | sqlmesh --help"),
            ("-- project load only", med("sk_parse"), med("sm_info"), "seeknal parse | sqlmesh info"),
            ("4a cold plan dev after the edit", med("sk_change"), med("our_plan_dev"),
             "seeknal run | seeknal plan dev --auto-apply -p PROJECT (target <= 1.0)"),
            ("4b cold no-op seeknal run", med("sk_noop"), med("our_noop"),
             "seeknal run | seeknal run -p PROJECT --end DATE (target <= 1.0)"),
            ("   4b' first run after a plan", med("sk_noop"), med("our_run1"),
             "seeknal run | the same, first run after `seeknal apply` (loads SQLMesh)"),
            ("4c seeknal dev: one edit", med("sk_change"), med("dev_edit"),
             "seeknal run | one cycle of seeknal dev after an edit (target <= 0.3)"),
            ("4d seeknal dev: no-op", med("sk_noop"), med("dev_noop"),
             "seeknal run | one cycle of seeknal dev after an unchanged save (target <= 0.1)"),
            ("-- our full build (prod)", med("sk_full"), med("our_full"), "seeknal run | seeknal apply -p PROJECT"),
        ]

        def ratio(ours_value: float, theirs: t.Optional[dict], key: str) -> str:
            return f"{ours_value / theirs[key]:.2f}" if theirs and theirs[key] > 0 else "n/a"

        header = (f"{'step':<32} {'seeknal s':>9} {'cpu':>6} {'ours s':>8} {'cpu':>6} {'ratio wall':>10} {'ratio cpu':>9} "
                  f"{'seeknal MB':>10} {'ours MB':>8}")
        print()
        print(header)
        print("-" * len(header))
        for label, sk, sm, _ in table:
            if sm is None:
                continue
            sk_s, sk_cpu, sk_mb = (f"{sk['s']:.2f}", f"{sk['cpu']:.2f}", f"{sk['mb']:.0f}") if sk else ("n/a",) * 3
            mb = f"{sm['mb']:.0f}" if sm["mb"] else "-"
            print(f"{label:<32} {sk_s:>9} {sk_cpu:>6} {sm['s']:>8.2f} {sm['cpu']:>6.2f} "
                  f"{ratio(sm['s'], sk, 's'):>10} {ratio(sm['cpu'], sk, 'cpu'):>9} {sk_mb:>10} {mb:>8}")
        print()
        print("commands (seeknal | ours):")
        for label, _, _, what in table:
            if what:
                print(f"  {label.strip():<30} {what}")
        if not with_seeknal:
            print("Seeknal 2.13 not run: ratios n/a")
            return 0
        print(f"work done: full build: seeknal executed {seeknal_executed(med('sk_full')['out'])} nodes, sqlmesh "
              f"{sqlmesh_executed(med('sm_full')['out'])} model batches; no-op: seeknal {seeknal_executed(med('sk_noop')['out'])}, "
              f"sqlmesh run {sqlmesh_executed(med('sm_run')['out'])}; after the edit: seeknal "
              f"{seeknal_executed(med('sk_change')['out'])} nodes, sqlmesh plan dev {sqlmesh_executed(med('sm_dev')['out'])} model batches")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
