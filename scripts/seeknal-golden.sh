#!/usr/bin/env bash
# Record Seeknal 2.13.0's outputs for sample_project/ as golden files.
#
#   scripts/seeknal-golden.sh            # -> tests/golden/seeknal-2.13/
#
# Environment:
#   SEEKNAL_VENV        venv holding seeknal==2.13.0 (default .venvs/seeknal; created
#                       when missing, reused when present)
#   SEEKNAL_GOLDEN_DIR  output directory (default tests/golden/seeknal-2.13)
#   PYTHON              interpreter used to create the venv (default python3)
#   KEEP_WORK=1         keep the temporary run directories (path is printed)
#
# What it does:
#   1. ensures the venv (seeknal==2.13.0, duckdb pinned, uv for Python nodes);
#   2. copies sample_project/ twice to a temp dir (as .../a/shopline and .../b/shopline;
#      Seeknal uses the directory name as the project name) and runs there
#        seeknal parse
#        seeknal run --profile profiles.yml --date 2024-04-04 --no-materialize \
#                    --exclude-tags external --exclude-tags seeknal_broken
#      Nodes tagged `external` need PostgreSQL/Iceberg/StarRocks/network; nodes tagged
#      `seeknal_broken` fail in Seeknal 2.13 (see sample_project/README.md). The second
#      run only serves to detect volatile (CURRENT_TIMESTAMP / NOW()-based) values;
#   3. scripts/seeknal_golden_collect.py writes <kind>.<name>.parquet per node output
#      (rows sorted), exposures' files, the feature-store consolidation and offline-store
#      copies, the results of a few `seeknal query` semantic-layer calls, and manifest.json
#      (node ids, files, columns, DuckDB types, row counts, statuses, rule outcomes,
#      skipped nodes and why, parse warnings, volatile columns, compiled metric SQL).
#
# Seeknal writes its offline feature store to the hard-coded /tmp/feature_store/<project>;
# this script clears /tmp/feature_store/shopline before each run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SEEKNAL_VENV:-$ROOT/.venvs/seeknal}"
OUT="${SEEKNAL_GOLDEN_DIR:-$ROOT/tests/golden/seeknal-2.13}"
PYTHON="${PYTHON:-python3}"
PROJECT="$ROOT/sample_project"
RUN_DATE="2024-04-04"   # the last day with data in the incremental source (orders.updated_at)
SEEKNAL_VERSION="2.13.0"
DUCKDB_VERSION="1.5.6"          # same DuckDB as the translator's environment
PROJECT_NAME="shopline"
OFFLINE_STORE="/tmp/feature_store/$PROJECT_NAME"
RUN_ARGS=(--profile profiles.yml --date "$RUN_DATE" --no-materialize
          --exclude-tags external --exclude-tags seeknal_broken)

log() { printf '[seeknal-golden] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- 1. venv
venv_ok() {
  [ -x "$VENV/bin/seeknal" ] && [ -x "$VENV/bin/uv" ] &&
    "$VENV/bin/python" - "$SEEKNAL_VERSION" "$DUCKDB_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("seeknal"), version("duckdb")) == (sys.argv[1], sys.argv[2]) else 1)
EOF
}
if ! venv_ok; then
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  log "installing seeknal==$SEEKNAL_VERSION duckdb==$DUCKDB_VERSION uv into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "seeknal==$SEEKNAL_VERSION" "duckdb==$DUCKDB_VERSION" uv
  venv_ok || { log "venv $VENV does not have seeknal==$SEEKNAL_VERSION / duckdb==$DUCKDB_VERSION"; exit 1; }
fi

# ---------------------------------------------------------------- 2. runs
WORK="$(mktemp -d "${TMPDIR:-/tmp}/seeknal-golden.XXXXXX")"
cleanup() {
  rm -rf "$OFFLINE_STORE"
  if [ "${KEEP_WORK:-0}" = "1" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Python nodes run through `uv run` with the venv's interpreter; Seeknal puts the venv's
# site-packages first on sys.path of the generated runner.
export PATH="$VENV/bin:$PATH"
export UV_PYTHON="$VENV/bin/python"
export VIRTUAL_ENV="$VENV"
export COLUMNS=300            # keep Seeknal's rich console output unwrapped in the logs
# Determinism: DuckDB sums floats in parallel, so the last bits of SUM/AVG/STDDEV of
# DOUBLEs vary from run to run. scripts/single_thread_duckdb/sitecustomize.py (only on this script's PYTHONPATH,
# also inherited by the `uv run` subprocesses of Python nodes) makes every DuckDB
# connection single-threaded, so the goldens are byte-stable.
export PYTHONPATH="$ROOT/scripts/single_thread_duckdb"

run_seeknal() {  # $1 = run label (a|b)
  local dir="$WORK/$1/$PROJECT_NAME"
  mkdir -p "$WORK/$1"
  cp -r "$PROJECT" "$dir"
  rm -rf "$dir/target" "$dir/generate.py" "$dir/__pycache__"
  rm -rf "$OFFLINE_STORE"
  log "run $1: seeknal ${RUN_ARGS[*]}  (in $dir)"
  ( cd "$dir" && seeknal parse >"$WORK/$1/parse.log" 2>&1 ) || true
  local rc=0
  ( cd "$dir" && seeknal run "${RUN_ARGS[@]}" >"$WORK/$1/run.log" 2>&1 ) || rc=$?
  echo "$rc" >"$WORK/$1/run.rc"
  if [ -d "$OFFLINE_STORE" ]; then cp -r "$OFFLINE_STORE" "$WORK/$1/offline_store"; fi
  if [ "$rc" -ne 0 ]; then
    log "seeknal run $1 exited with $rc; last lines:"
    grep -v 'Security Warning' "$WORK/$1/run.log" | tail -30 >&2
    return "$rc"
  fi
}
run_seeknal a
run_seeknal b

# ---------------------------------------------------------------- 3. collect
log "collecting goldens into $OUT"
"$VENV/bin/python" "$ROOT/scripts/seeknal_golden_collect.py" \
  --run-a "$WORK/a" --run-b "$WORK/b" --project-name "$PROJECT_NAME" \
  --source-project "$PROJECT" --out "$OUT" \
  --command "seeknal run ${RUN_ARGS[*]}" --run-date "$RUN_DATE"
log "done: $(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1)"
