#!/usr/bin/env bash
# Creates .venvs/srtest: the StarRocks-compatible test server's own environment (scripts/starrocks_test_server.py).
# It needs sqlglot >= 30.30 (StarRocks DDL, REFRESH MATERIALIZED VIEW), while SQLMesh pins sqlglot 30.8, so it cannot
# share the project's environment. Idempotent: does nothing when the pinned packages are already there.
# Used by tests/test_starrocks_integration.py (and .ci/run) on a clean machine; prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venvs/srtest
REQS="mysql-mimic==3.0.5 sqlglot==30.30.0 duckdb==1.5.6 pymysql==1.2.4"
STAMP="$VENV/.requirements"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$REQS" ]; then
  echo "$PWD/$VENV/bin/python"; exit 0
fi
rm -rf "$VENV"
python3 -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check $REQS >&2
echo "$REQS" > "$STAMP"
echo "$PWD/$VENV/bin/python"
