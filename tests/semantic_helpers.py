"""Shared helpers of the semantic-layer tests (tests/test_semantic_*.py)."""

from __future__ import annotations

import datetime as dt
import math
import typing as t
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "seeknal-2.13"
SAMPLE_SEMANTIC = ROOT / "sample_project" / "seeknal"


def sample_connection() -> duckdb.DuckDBPyConnection:
    """The sample project's two semantic-model inputs (as `seeknal run` produced them) in an in-memory DuckDB."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA transform")
    for name in ("orders_enriched", "customer_lifetime"):
        con.execute(f"CREATE TABLE transform.{name} AS SELECT * FROM read_parquet('{GOLDEN / f'transform.{name}.parquet'}')")
    return con


def _norm(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        return v.date() if v.time() == dt.time(0) else v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return round(float(v), 6)
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(v, "item"):
        return _norm(v.item())
    return v


def rows(frame) -> t.List[tuple]:
    """Rows of a DataFrame (or list of tuples), normalized for comparison and sorted."""
    if hasattr(frame, "itertuples"):
        data = [tuple(r) for r in frame.astype(object).itertuples(index=False, name=None)]
    else:
        data = [tuple(r) for r in frame]
    out = [tuple(_norm(v) for v in r) for r in data]
    return sorted(out, key=lambda r: tuple((x is None, str(x)) for x in r))


def sql_rows(con, sql: str) -> t.List[tuple]:
    return rows(con.execute(sql).fetchall())


def assert_rows_equal(actual, expected, rel=1e-6) -> None:
    a, b = rows(actual), rows(expected)
    assert len(a) == len(b), f"{len(a)} rows != {len(b)} rows\nactual:   {a[:8]}\nexpected: {b[:8]}"
    for x, y in zip(a, b):
        assert len(x) == len(y), (x, y)
        for u, v in zip(x, y):
            if isinstance(u, float) and isinstance(v, float):
                assert math.isclose(u, v, rel_tol=rel, abs_tol=1e-6), f"{x} != {y}"
            else:
                assert u == v, f"{x} != {y}"
