"""Where queries run and what `ref('kind.name')` means there.

- `DuckDBConnection`: a DuckDB connection or database file; `ref('x')` is table `x` of it (`ref('transform.orders')`
  is `transform.orders`).
- `SQLMeshConnection`: a SQLMesh `Context` and an environment; `ref('kind.name')` is that model's view in the
  environment's virtual layer (`transform.orders` in prod, `transform__dev.orders` in dev), as SQLMesh's state names
  it (`runtime.environments.EnvironmentTables`), and queries run on the context's engine adapter.

Results come as a pandas DataFrame (`execute`) or as an Arrow table with the engine's types (`fetch_arrow`: dates
stay dates, integer sums stay integers). A query the database refuses is a `QueryError` with the database's reason.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError
from seeknal_sqlmesh.sqlkit import table

if t.TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from seeknal_sqlmesh.runtime.environments import EnvironmentTables

# exceptions of these packages are the database refusing the SQL (not a bug of ours): reported as QueryError
_DATABASE_MODULES = ("duckdb", "_duckdb", "sqlmesh", "psycopg2", "psycopg", "pymysql", "MySQLdb")


def _database_error(e: Exception) -> QueryError:
    return QueryError(f"the query failed on the database: {str(e).splitlines()[0] if str(e) else type(e).__name__}")


def _is_database_error(e: Exception) -> bool:
    return type(e).__module__.split(".")[0] in _DATABASE_MODULES


def integers_as_integers(data: pa.Table) -> pa.Table:
    """DuckDB returns integer sums as HUGEINT, which Arrow receives as decimal(38, 0): back to int64 where the
    values fit."""
    import pyarrow as pa
    import pyarrow.types as pat

    for i, f in enumerate(data.schema):
        if pat.is_decimal(f.type) and f.type.scale == 0 and f.type.precision == 38:
            try:
                column = data.column(i).cast(pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            data = data.set_column(i, pa.field(f.name, pa.int64(), f.nullable), column)
    return data


def _rows_to_arrow(names: t.Sequence[str], rows: t.Sequence[t.Sequence[t.Any]]) -> pa.Table:
    """A DB-API result as Arrow, each column's type inferred from its Python values (date -> date32, ...)."""
    import pyarrow as pa

    return pa.table({name: pa.array([row[i] for row in rows]) for i, name in enumerate(names)})


class Connection:
    dialect: str = "duckdb"
    label: str = ""

    def relation(self, rel: ir.Relation) -> exp.Table:
        return table(rel.name, dialect=self.dialect)

    def execute(self, sql: str) -> pd.DataFrame:
        raise QueryError("this semantic layer has no connection to run queries on; pass connection=...")

    def fetch_arrow(self, sql: str) -> pa.Table:
        raise QueryError("this semantic layer has no connection to run queries on; pass connection=...")


class DuckDBConnection(Connection):
    def __init__(self, target: t.Any = None, read_only: bool = True):
        import duckdb

        if target is None or isinstance(target, (str, Path)):
            path = str(target) if target is not None else ":memory:"
            scheme = path.split("://", 1)[0].lower() if "://" in path else ""
            if scheme and scheme != "duckdb":
                raise QueryError(
                    f"cannot run queries on '{scheme}://' connections; run on DuckDB (a file or duckdb:///path) "
                    f"or in a translated SQLMesh project, or print the SQL with --compile --dialect {scheme.split('+')[0]}"
                )
            if path.startswith("duckdb://"):
                path = (
                    path[len("duckdb://") :].lstrip("/")
                    if not path.startswith("duckdb:///")
                    else path[len("duckdb:///") :]
                )
                path = path or ":memory:"
            if path != ":memory:" and not Path(path).exists():
                raise QueryError(f"DuckDB database '{path}' does not exist")
            self.con = duckdb.connect(path, read_only=read_only and path != ":memory:")
            self.label = path
        else:
            self.con = target
            self.label = "duckdb"

    def _run(self, sql: str) -> t.Any:
        try:
            return self.con.execute(sql)
        except Exception as e:
            if _is_database_error(e):
                raise _database_error(e) from e
            raise

    def execute(self, sql: str) -> pd.DataFrame:
        return self._run(sql).df()

    def fetch_arrow(self, sql: str) -> pa.Table:
        result = self._run(sql)
        fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table  # DuckDB < 1.4: fetch_arrow_table
        return integers_as_integers(fetch())


class SQLMeshConnection(Connection):
    def __init__(self, context: t.Any, environment: t.Optional[str] = None):
        from seeknal_sqlmesh.runtime.environments import EnvironmentTables

        self.context = context
        self.dialect = context.engine_adapter.dialect
        self.tables: EnvironmentTables = EnvironmentTables.open(
            context.state_reader, environment or "prod", self.dialect
        )
        self.environment = self.tables.name
        self.label = self.environment

    def relation(self, rel: ir.Relation) -> exp.Table:
        if not rel.is_ref:
            return super().relation(rel)
        view = self.tables.view(rel.name)
        if view is None:
            raise QueryError(f"{rel} is not a model of SQLMesh environment '{self.environment}'")
        return view

    def execute(self, sql: str) -> pd.DataFrame:
        try:
            return self.context.engine_adapter.fetchdf(sql)
        except Exception as e:
            if _is_database_error(e):
                raise _database_error(e) from e
            raise

    def fetch_arrow(self, sql: str) -> pa.Table:
        adapter = self.context.engine_adapter
        try:
            with adapter.transaction():
                adapter.execute(sql)
                cursor = adapter.cursor
                fetch = getattr(cursor, "to_arrow_table", None) or getattr(cursor, "fetch_arrow_table", None)
                if fetch is not None:  # DuckDB: Arrow straight from the engine
                    return integers_as_integers(fetch())
                names = [d[0] for d in cursor.description or ()]
                return _rows_to_arrow(names, cursor.fetchall())
        except Exception as e:
            if _is_database_error(e):
                raise _database_error(e) from e
            raise


def sqlmesh_context(project: t.Union[str, Path]) -> t.Any:
    """A SQLMesh `Context` of a translated project (models are not loaded: queries need only state and engine)."""
    import os

    os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")
    from sqlmesh import Context

    try:
        return Context(paths=str(project), load=False)
    except Exception as e:  # a broken config.py / settings.yaml: SQLMesh's own message says what
        raise QueryError(
            f"{project}: cannot open the SQLMesh project: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
            "translate the project again, or check its settings.yaml",
        ) from e


def connect(connection: t.Any = None, environment: t.Optional[str] = None) -> t.Optional[Connection]:
    """A Connection from what users pass: None, a Connection, a DuckDB connection/path/URL, a SQLMesh Context,
    or a (Context, environment) pair."""
    if isinstance(connection, tuple) and len(connection) == 2:
        connection, environment = connection
    if connection is None:
        return None
    if isinstance(connection, Connection):
        return connection
    if hasattr(connection, "state_reader") and hasattr(connection, "engine_adapter"):
        return SQLMeshConnection(connection, environment)
    if environment not in (None, "prod"):
        raise QueryError("an environment needs a SQLMesh project (a Context), not a plain database connection")
    return DuckDBConnection(connection)
