#!/usr/bin/env bash
# Create (or reuse) the virtual environment holding MetricFlow 0.213.0 as a library, the oracle of
# tests/test_semantic_metricflow.py (differential test of seeknal_sqlmesh.semantic against MetricFlow).
#
#   scripts/metricflow-venv.sh          # -> .venvs/metricflow
#
# MetricFlow is a dev/test-only dependency: it pins its own pydantic/sqlglot/rapidfuzz, so it lives in its own
# venv and is driven through tests/semantic_mf_oracle.py in a subprocess. `metricflow==0.213.0` installs without dbt
# (28 packages, ~150 MB, ~15 s from PyPI).
#
# Environment:
#   METRICFLOW_VENV  venv path (default .venvs/metricflow)
#   PYTHON           interpreter used to create it (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${METRICFLOW_VENV:-$ROOT/.venvs/metricflow}"
PYTHON="${PYTHON:-python3}"
MF_VERSION="0.213.0"
DUCKDB_VERSION="1.5.6"   # same DuckDB as the project

log() { printf '[metricflow-venv] %s\n' "$*" >&2; }

venv_ok() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$MF_VERSION" "$DUCKDB_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("metricflow"), version("duckdb")) == (sys.argv[1], sys.argv[2]) else 1)
PY
}

if venv_ok; then
  log "$VENV already has metricflow==$MF_VERSION"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
log "installing metricflow==$MF_VERSION duckdb==$DUCKDB_VERSION into $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "metricflow==$MF_VERSION" "duckdb==$DUCKDB_VERSION"
venv_ok || { log "venv $VENV does not have metricflow==$MF_VERSION / duckdb==$DUCKDB_VERSION"; exit 1; }
log "done"
