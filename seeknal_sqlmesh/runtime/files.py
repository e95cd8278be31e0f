"""Readers used by generated Python models."""

from __future__ import annotations

import sqlite3
import typing as t
from pathlib import Path

import pandas as pd
from sqlglot import exp


def project_file(relative_path: str) -> Path:
    """A path written relative to the translated project (whose config.py exports its folder)."""
    from seeknal_sqlmesh.runtime.config import project_dir

    return (project_dir() / relative_path).resolve()


def read_sqlite_table(relative_path: str, table: str, columns: t.List[str]) -> pd.DataFrame:
    """Read one table of a SQLite file with the stdlib driver (no DuckDB extension download needed)."""
    path = project_file(relative_path)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        query = exp.select(*[exp.column(c, quoted=True) for c in columns]).from_(exp.table_(table, quoted=True))
        return pd.read_sql_query(query.sql(dialect="sqlite"), con)
