"""MetricFlow 0.213.0 as a reference oracle (run with .venvs/metricflow/bin/python; see scripts/metricflow-venv.sh).

    python scripts/semantic_mf_oracle.py REQUEST.json > RESULT.json

REQUEST: {"manifest_dir": DIR of MetricFlow YAML, "database": DuckDB file, "queries": [{"metrics": [...],
"group_by": [...], "where": [...], "order_by": [...], "limit": N, "start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}]}
RESULT: one entry per query: {"columns": [...], "rows": [[...]], "sql": "..."} or {"error": "..."}; values are
JSON-safe (dates as ISO strings).

Only the library is used (no dbt): a ~30-line DuckDB SqlClient, MetricFlow's own manifest loader and engine.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys
from pathlib import Path

import duckdb
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.test_helpers.manifest_helpers import mf_load_manifest_from_yaml_directory


class DuckDbClient:
    """The SqlClient protocol of MetricFlow over one DuckDB connection."""

    def __init__(self, path: str):
        self.con = duckdb.connect(path, read_only=True)
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self):
        return self._renderer

    def query(self, stmt, sql_bind_parameter_set=None) -> MetricFlowDataTable:
        cur = self.con.execute(stmt)
        names = [d[0] for d in cur.description]
        return MetricFlowDataTable.create_from_rows(names, cur.fetchall())

    def execute(self, stmt, sql_bind_parameter_set=None) -> None:
        self.con.execute(stmt)

    def dry_run(self, stmt, sql_bind_parameter_set=None) -> None:
        self.con.execute(f"EXPLAIN {stmt}")

    def close(self) -> None:
        self.con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _json(v):
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def _time(value):
    return dt.datetime.fromisoformat(value) if value else None


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text())
    manifest = mf_load_manifest_from_yaml_directory(Path(request["manifest_dir"]))
    engine = MetricFlowEngine(SemanticManifestLookup(manifest), DuckDbClient(request["database"]))
    results = []
    for q in request["queries"]:
        try:
            req = MetricFlowQueryRequest.create(
                metric_names=q.get("metrics") or None, group_by_names=q.get("group_by") or None,
                where_constraints=q.get("where") or None, order_by_names=q.get("order_by") or None, limit=q.get("limit"),
                time_constraint_start=_time(q.get("start")), time_constraint_end=_time(q.get("end")))
            result = engine.query(req)
            table = result.result_df
            results.append({"columns": list(table.column_names), "rows": [[_json(c) for c in row] for row in table.rows],
                            "sql": result.sql})
        except Exception as e:  # reported per query; the test decides what an error means
            results.append({"error": f"{type(e).__name__}: {str(e)[:2000]}"})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
