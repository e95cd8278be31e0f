"""Where queries run and what `ref('kind.name')` means there.

- `DuckDBConnection`: a DuckDB connection or database file; `ref('x')` is table `x` of it (`ref('transform.orders')`
  is `transform.orders`).
- `SQLMeshConnection`: a SQLMesh `Context` and an environment; `ref('kind.name')` is that model's view in the
  environment's virtual layer (`transform.orders` in prod, `transform__dev.orders` in dev), read from SQLMesh's state,
  and queries run on the context's engine adapter.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError


class Connection:
    dialect: str = "duckdb"
    label: str = ""

    def relation(self, rel: ir.Relation) -> exp.Table:
        return exp.to_table(rel.name, dialect=self.dialect)

    def execute(self, sql: str):  # -> pandas.DataFrame
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

    def execute(self, sql: str):
        return self.con.execute(sql).df()


class SQLMeshConnection(Connection):
    def __init__(self, context: t.Any, environment: t.Optional[str] = None):
        self.context = context
        self.environment = (environment or "prod").lower()
        self.dialect = context.engine_adapter.dialect
        self.label = self.environment
        env = context.state_reader.get_environment(self.environment)
        if env is None:
            names = sorted(e.name for e in context.state_reader.get_environments())
            raise QueryError(
                f"SQLMesh environment '{self.environment}' does not exist (environments: {', '.join(names) or 'none'}); "
                f"create it with `sqlmesh plan {self.environment}`"
            )
        self._views: t.Dict[t.Tuple[str, str], str] = {}
        for snapshot in env.snapshots:
            table = exp.to_table(snapshot.name)
            view = snapshot.qualified_view_name.for_environment(env.naming_info, dialect=self.dialect)
            self._views[(table.db.lower(), table.name.lower())] = view

    def relation(self, rel: ir.Relation) -> exp.Table:
        if not rel.is_ref:
            return super().relation(rel)
        table = exp.to_table(rel.name)
        key = (table.db.lower(), table.name.lower())
        view = self._views.get(key)
        if view is None:
            matches = [v for (db, name), v in self._views.items() if name == key[1] and not key[0]]
            if len(matches) == 1:
                view = matches[0]
        if view is None:
            raise QueryError(f"{rel} is not a model of SQLMesh environment '{self.environment}'")
        return exp.to_table(view, dialect=self.dialect)

    def execute(self, sql: str):
        return self.context.engine_adapter.fetchdf(sql)


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
