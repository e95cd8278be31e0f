"""Readers used by generated Python models."""

from __future__ import annotations

import sqlite3
import typing as t
from pathlib import Path

import pandas as pd
from sqlglot import exp

from seeknal_sqlmesh.sqlkit import col, to_sql


def project_file(relative_path: str) -> Path:
    """A path written relative to the translated project (whose config.py exports its folder)."""
    # imported in the function: generated models and macros that use this are stored by SQLMesh with the globals
    # they reference, and the folder must be read when they run
    from seeknal_sqlmesh.runtime.config import project_dir

    return (project_dir() / relative_path).resolve()


def read_sqlite_table(relative_path: str, table: str, columns: t.List[str]) -> pd.DataFrame:
    """Read one table of a SQLite file with the stdlib driver (no DuckDB extension download needed)."""
    path = project_file(relative_path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        query = exp.select(*[col(c) for c in columns]).from_(exp.table_(table, quoted=True))
        return pd.read_sql_query(to_sql(query, "sqlite"), con)
