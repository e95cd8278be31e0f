"""Run a Seeknal Python node's function inside a SQLMesh Python model.

Seeknal hands node functions a `ctx` with `ref("kind.name")` (a DataFrame), `duckdb` (a connection that sees the
function's local DataFrames) and `get_param`. `SeeknalContext` offers the same over SQLMesh's ExecutionContext,
so the user's function body runs unchanged.
"""

from __future__ import annotations

import typing as t

import duckdb
import pandas as pd


class SeeknalContext:
    def __init__(self, fetch: t.Callable[[str], pd.DataFrame], params: t.Optional[t.Dict[str, t.Any]] = None):
        self._fetch = fetch
        self._params = dict(params or {})
        self.duckdb = duckdb.connect()

    def ref(self, node_id: str) -> pd.DataFrame:
        return self._fetch(node_id)

    def get_param(self, name: str, default: t.Any = None) -> t.Any:
        return self._params.get(name, default)

    def close(self) -> None:
        self.duckdb.close()


def sqlmesh_fetcher(context: t.Any, tables: t.Dict[str, str]) -> t.Callable[[str], pd.DataFrame]:
    """`ctx.ref('kind.name')` inside SQLMesh: read the upstream model of the current environment."""
    from sqlglot import exp

    def fetch(node_id: str) -> pd.DataFrame:
        if node_id not in tables:
            raise KeyError(f"ctx.ref('{node_id}') is not an input of this node")
        table = context.resolve_table(tables[node_id])
        return context.fetchdf(exp.select("*").from_(table))

    return fetch


def run_node(func: t.Callable, context: t.Any, tables: t.Dict[str, str], params: t.Dict[str, t.Any]) -> pd.DataFrame:
    ctx = SeeknalContext(sqlmesh_fetcher(context, tables), params)
    try:
        result = func(ctx)
        if hasattr(result, "df") and not isinstance(result, pd.DataFrame):
            result = result.df()  # a DuckDB relation
        return result
    finally:
        ctx.close()
