#!/usr/bin/env python
"""A StarRocks-compatible test server: the MySQL protocol (mysql-mimic), sqlglot's StarRocks dialect, DuckDB.

Not StarRocks. It lets the test suite run SQLMesh through seeknal-sqlmesh's StarRocks adapter over a real MySQL
connection on machines where no StarRocks can run, and it refuses what the documentation says StarRocks refuses
(`RULES` below, each with its source so it can be re-checked on a real cluster). What it cannot show is listed in
README.md ("StarRocks: what the offline tests cannot prove").

Runs in its own virtual environment (scripts/srtest-venv.sh: mysql-mimic, sqlglot >= 30.30, duckdb), because it
needs a newer sqlglot than SQLMesh pins. Usage: `starrocks_test_server.py --port 0` prints `READY <port>` once it
listens on 127.0.0.1, then serves until killed.

Emulation: databases are DuckDB schemas of the DuckDB catalog `default_catalog`; an external catalog
(`CREATE EXTERNAL CATALOG`) is another attached in-memory DuckDB catalog; an async materialized view is a stored
table filled only by `REFRESH MATERIALIZED VIEW` (or at creation with `REFRESH IMMEDIATE`); partitions are recorded
as expressions and used by dynamic overwrite; keys, distribution and properties are recorded, not enforced beyond
the rules.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import decimal
import logging
import re
import sys
import typing as t
from dataclasses import dataclass, field

import duckdb
import sqlglot
from mysql_mimic import MysqlServer, ResultColumn, Session
from mysql_mimic.errors import MysqlError
from mysql_mimic.types import ColumnType
from sqlglot import exp

DIALECT = "starrocks"
DEFAULT_CATALOG = "default_catalog"
VERSION = "3.5.0-seeknal-testserver"
HIDDEN_SCHEMAS = {"main", "information_schema", "pg_catalog"}

# Each rule: (id, what is enforced, source). Referenced in error messages as [rule-id].
RULES = {
    "key-prefix": (
        "Key columns (DUPLICATE/AGGREGATE/UNIQUE/PRIMARY KEY) are the first columns of the schema, in key order",
        "StarRocks docs 'Sort keys and prefix indexes' (table_design/Sort_key), 'Overview of table types' (table_design/table_types)",
    ),
    "delete-where": ("DELETE needs a WHERE clause", "StarRocks docs, DELETE statement"),
    "delete-simple": (
        "On Duplicate/Aggregate/Unique Key tables DELETE conditions are `column op literal` with =, >, <, >=, <=, !=, IN, "
        "NOT IN joined by AND (no BETWEEN, no subqueries); Aggregate/Unique Key tables only on key columns",
        "StarRocks docs, DELETE statement",
    ),
    "pk-upsert": ("INSERT into a Primary Key / Unique Key table replaces rows with the same key", "StarRocks docs 'Overview of table types'"),
    "no-merge": ("No MERGE statement on internal tables", "StarRocks SQL reference (no MERGE); StarRocks/starrocks#62881"),
    "no-insert-mv": ("No INSERT into a materialized view", "StarRocks/starrocks#4795, PR #7004"),
    "txn-ddl": (
        "Inside an explicit transaction only begin/commit/rollback/insert/update/delete/set/select (error 5305)",
        "StarRocks docs loading/SQL_transaction; dbt-starrocks #73; StarRocks PR #63722",
    ),
    "mv-stale": (
        "Async MVs change only on REFRESH; REFRESH DEFERRED leaves the MV empty until the first refresh",
        "StarRocks docs CREATE MATERIALIZED VIEW; 'Feature Support: Asynchronous Materialized Views'",
    ),
    "mv-inactive": (
        "Recreating, dropping, swapping or renaming a base table/view deactivates dependent async MVs (even CREATE OR REPLACE "
        "VIEW with the same SQL); an inactive MV cannot be refreshed until ALTER MATERIALIZED VIEW .. ACTIVE",
        "dbt-starrocks PR #109; StarRocks #68479; StarRocks PR #54732; feature-support page (ACTIVE since 3.0.1)",
    ),
    "rename": (
        "Views cannot be renamed; MVs rename with ALTER MATERIALIZED VIEW .. RENAME; a RENAME target is unqualified",
        "StarRocks #5705; dbt-starrocks #28, #33",
    ),
    "varchar-max": ("VARCHAR length at most 1048576", "StarRocks #73374; dbt-starrocks #41"),
    "mv-refresh-required": ("An async materialized view has a REFRESH clause (ASYNC or MANUAL)", "StarRocks docs CREATE MATERIALIZED VIEW"),
}

log = logging.getLogger("starrocks-test-server")


class SRError(MysqlError):
    def __init__(self, msg: str, code: int = 1064, rule: t.Optional[str] = None):
        text = f"{msg} [rule {rule}: {RULES[rule][1]}]" if rule else msg
        super().__init__(text, code=code)  # type: ignore[arg-type]


@dataclass
class Obj:
    catalog: str
    db: str
    name: str
    kind: str  # table | view | mv
    ddl: str = ""
    key_type: t.Optional[str] = None
    keys: t.List[str] = field(default_factory=list)
    partition: t.List[str] = field(default_factory=list)  # DuckDB SQL of each partition expression
    mv_query: t.Optional[str] = None  # DuckDB SQL
    refresh: str = ""
    active: bool = True
    bases: t.Set[t.Tuple[str, str, str]] = field(default_factory=set)

    @property
    def key(self) -> t.Tuple[str, str, str]:
        return (self.catalog, self.db.lower(), self.name.lower())


class Catalog:
    """Shared state of the server: one DuckDB database and the metadata StarRocks keeps per object."""

    def __init__(self) -> None:
        self.duck = duckdb.connect(":memory:")
        self.duck.execute(f"ATTACH ':memory:' AS {DEFAULT_CATALOG}")
        self.objects: t.Dict[t.Tuple[str, str, str], Obj] = {}
        self.catalogs: t.Dict[str, t.Dict[str, str]] = {DEFAULT_CATALOG: {"type": "internal"}}
        self.statements = 0

    def get(self, catalog: str, db: str, name: str) -> t.Optional[Obj]:
        return self.objects.get((catalog, db.lower(), name.lower()))

    def deactivate_dependents(self, key: t.Tuple[str, str, str]) -> None:
        for obj in self.objects.values():
            if obj.kind == "mv" and key in obj.bases:
                obj.active = False


def _duck_type_to_starrocks(type_name: str) -> str:
    upper = type_name.upper()
    simple = {
        "BIGINT": "bigint", "INTEGER": "int", "SMALLINT": "smallint", "TINYINT": "tinyint", "HUGEINT": "largeint",
        "UBIGINT": "largeint", "UINTEGER": "bigint", "DOUBLE": "double", "FLOAT": "float", "BOOLEAN": "boolean",
        "DATE": "date", "TIMESTAMP": "datetime", "TIMESTAMP WITH TIME ZONE": "datetime", "VARCHAR": "varchar(65533)",
        "JSON": "json", "BLOB": "varbinary", "TIME": "time",
    }
    if upper in simple:
        return simple[upper]
    if upper.startswith("DECIMAL"):
        return upper.lower()
    if upper.startswith("TIMESTAMP"):
        return "datetime"
    try:
        return exp.DataType.build(type_name, dialect="duckdb").sql(DIALECT).lower()
    except Exception:
        return "varchar(65533)"


def _result_column(name: str, type_code: t.Any) -> ResultColumn:
    code = str(type_code).upper()
    if code in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "HUGEINT"):
        kind = ColumnType.LONGLONG
    elif code.startswith("DECIMAL"):
        kind = ColumnType.NEWDECIMAL
    elif code in ("DOUBLE", "FLOAT"):
        kind = ColumnType.DOUBLE
    elif code == "BOOLEAN":
        kind = ColumnType.TINY
    elif code == "DATE":
        kind = ColumnType.DATE
    elif code.startswith("TIMESTAMP"):
        kind = ColumnType.DATETIME
    else:
        kind = ColumnType.VAR_STRING
    return ResultColumn(name=name, type=kind)


def _text(value: t.Any) -> t.Any:
    if value is None or isinstance(value, (int, float, str, bool, decimal.Decimal, dt.date, dt.datetime, bytes)):
        return value
    return str(value)


def _eq_pairs(text: str) -> t.Dict[str, str]:
    return {k: v for k, v in re.findall(r"""["']([^"']+)["']\s*=\s*["']([^"']*)["']""", text)}


class StarRocksSession(Session):
    dialect = DIALECT

    def __init__(self, state: Catalog) -> None:
        super().__init__()
        self.state = state
        self.cur = state.duck.cursor()
        self.cur.execute(f"USE {DEFAULT_CATALOG}")
        self.catalog = DEFAULT_CATALOG
        self.in_txn = False
        self.middlewares = [self._set_middleware, self._route]

    # ------------------------------------------------------------------ plumbing
    def _parse(self, sql: str) -> t.List[exp.Expr]:
        try:
            return [e for e in sqlglot.parse(sql, read=DIALECT) if e]
        except sqlglot.errors.ParseError:
            return [exp.Command(this=sql.split(None, 1)[0].upper(), expression=exp.Literal.string(sql))]

    async def use(self, database: str) -> None:
        self._use(database)

    def _use(self, target: str) -> None:
        parts = [p.strip("`") for p in target.split(".")]
        catalog, db = (parts[0], parts[1]) if len(parts) == 2 else (self.catalog, parts[0])
        if catalog not in self.state.catalogs:
            raise SRError(f"Unknown catalog '{catalog}'", 1049)
        if not self._schema_exists(catalog, db):
            raise SRError(f"Unknown database '{db}'", 1049)
        self.catalog, self.database = catalog, db
        self.cur.execute(f'USE "{catalog}"."{db}"')

    def _schema_exists(self, catalog: str, db: str) -> bool:
        return bool(self.cur.execute(
            "SELECT 1 FROM information_schema.schemata WHERE catalog_name = ? AND lower(schema_name) = lower(?)", [catalog, db]
        ).fetchall())

    async def _route(self, q: t.Any) -> t.Any:
        self.state.statements += 1
        try:
            return self.handle(q.expression, q.sql)
        except MysqlError:
            raise
        except duckdb.Error as e:
            raise SRError(str(e).splitlines()[0], 1064)

    async def schema(self) -> dict:
        return {}

    # ------------------------------------------------------------------ names
    def qualify(self, table: exp.Table) -> t.Tuple[str, str, str]:
        catalog = table.catalog or (self.catalog if table.db or self.database else self.catalog)
        db = table.db or self.database
        if not db:
            raise SRError("No database selected", 1046)
        if catalog not in self.state.catalogs:
            raise SRError(f"Unknown catalog '{catalog}'", 1049)
        return catalog, db, table.name

    def _qualify_tables(self, node: exp.Expr) -> exp.Expr:
        ctes = {c.alias_or_name.lower() for c in node.find_all(exp.CTE)}
        for table in list(node.find_all(exp.Table)):
            if not table.name or isinstance(table.this, exp.Func) or table.args.get("this") is None:
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            if (table.db or "").lower() == "information_schema":
                table.replace(self._info_schema(table))
                continue
            catalog, db, name = self.qualify(table)
            table.set("catalog", exp.to_identifier(catalog, quoted=True))
            table.set("db", exp.to_identifier(db, quoted=True))
            table.set("this", exp.to_identifier(name, quoted=True))
        return node

    def _info_schema(self, table: exp.Table) -> exp.Expr:
        catalog = table.catalog or self.catalog
        name = table.name.lower()
        hidden = ", ".join(f"'{s}'" for s in sorted(HIDDEN_SCHEMAS))
        where = f"table_catalog = '{catalog}' AND table_schema NOT IN ({hidden})"
        sql = {
            "tables": f"SELECT 'def' AS table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE {where}",
            "columns": f"SELECT 'def' AS table_catalog, table_schema, table_name, column_name, ordinal_position, data_type, is_nullable FROM information_schema.columns WHERE {where}",
            "schemata": f"SELECT 'def' AS catalog_name, schema_name FROM information_schema.schemata WHERE catalog_name = '{catalog}' AND schema_name NOT IN ({hidden})",
            "views": f"SELECT 'def' AS table_catalog, schema_name AS table_schema, view_name AS table_name, sql AS view_definition FROM duckdb_views() WHERE database_name = '{catalog}' AND NOT internal",
        }.get(name)
        if name == "materialized_views":
            rows = [
                f"('{o.db}', '{o.name}', '{o.refresh}', '{str(o.active).lower()}')"
                for o in self.state.objects.values() if o.kind == "mv" and o.catalog == catalog
            ] or ["(NULL, NULL, NULL, NULL)"]
            sql = ("SELECT * FROM (VALUES " + ", ".join(rows) + ") AS v(table_schema, table_name, refresh_type, is_active) "
                   "WHERE table_schema IS NOT NULL")
        if sql is None:
            raise SRError(f"Unknown table 'information_schema.{name}'", 1109)
        alias = table.alias or table.name
        return exp.Subquery(this=sqlglot.parse_one(sql, read="duckdb"), alias=exp.TableAlias(this=exp.to_identifier(alias)))

    def duck(self, node: exp.Expr) -> str:
        return self._qualify_tables(node.copy()).sql("duckdb")

    def run(self, sql: str, params: t.Optional[list] = None) -> t.Any:
        log.debug("duckdb: %s", sql)
        return self.cur.execute(sql, params or [])

    def result(self, sql: str) -> t.Any:
        self.run(sql)
        if self.cur.description is None:
            return [], []
        columns = [_result_column(d[0], d[1]) for d in self.cur.description]
        return [tuple(_text(v) for v in row) for row in self.cur.fetchall()], columns

    # ------------------------------------------------------------------ dispatch
    def handle(self, e: exp.Expr, sql: str) -> t.Any:
        if self.in_txn and not isinstance(
            e, (exp.Insert, exp.Update, exp.Delete, exp.Query, exp.Set, exp.Commit, exp.Rollback, exp.Transaction)
        ):
            raise SRError("Explicit transaction only support begin/commit/rollback/insert/update/delete/set/select statements.", 5305, "txn-ddl")
        if isinstance(e, exp.Transaction):
            self.run("BEGIN TRANSACTION")
            self.in_txn = True
            return [], []
        if isinstance(e, (exp.Commit, exp.Rollback)):
            if self.in_txn:
                self.run("COMMIT" if isinstance(e, exp.Commit) else "ROLLBACK")
            self.in_txn = False
            return [], []
        if isinstance(e, exp.Use):
            self._use(e.this.sql(DIALECT).replace("`", ""))
            return [], []
        if isinstance(e, exp.Merge):
            raise SRError("MERGE is not supported", 1064, "no-merge")
        if isinstance(e, exp.Create):
            return self.create(e)
        if isinstance(e, exp.Drop):
            return self.drop(e)
        if isinstance(e, exp.Insert):
            return self.insert(e)
        if isinstance(e, exp.Delete):
            return self.delete(e)
        if isinstance(e, exp.TruncateTable):
            for table in e.expressions:
                self.run(f"DELETE FROM {self.duck(table)}")
            return [], []
        if isinstance(e, exp.Alter):
            return self.alter(e)
        if isinstance(e, exp.Describe):
            return self.describe(e.this)
        if isinstance(e, exp.Show):
            return self.show(e)
        if type(e).__name__ == "Refresh":
            return self.refresh(e.this, sql)
        if isinstance(e, exp.Command):
            return self.command(sql.strip().rstrip(";"))
        if isinstance(e, (exp.Query, exp.Values)):
            return self.select(e)
        raise SRError(f"Unsupported statement: {sql[:80]}", 1064)

    def select(self, e: exp.Expr) -> t.Any:
        for func in list(e.find_all(exp.Func)):
            name = func.name.lower() if isinstance(func, exp.Anonymous) else func.sql_name().lower()
            if name == "catalog":
                func.replace(exp.Literal.string(self.catalog))
            elif name in ("current_version", "version"):
                func.replace(exp.Literal.string(VERSION))
        for func in list(e.find_all(exp.CurrentSchema)):
            func.replace(exp.Literal.string(self.database) if self.database else exp.null())
        return self.result(self.duck(e))

    # ------------------------------------------------------------------ DDL
    def create(self, e: exp.Create) -> t.Any:
        kind = (e.args.get("kind") or "").upper()
        if kind in ("SCHEMA", "DATABASE"):
            catalog, name = self._schema_parts(e.this)
            self.run(f'CREATE SCHEMA {"IF NOT EXISTS " if e.args.get("exists") else ""}"{catalog}"."{name}"')
            return [], []
        if kind == "VIEW":
            props = e.args.get("properties")
            if props and any(isinstance(p, exp.MaterializedProperty) for p in props.expressions):
                return self.create_mv(e)
            return self.create_view(e)
        if kind == "TABLE":
            return self.create_table(e)
        raise SRError(f"Unsupported CREATE {kind}", 1064)

    def _schema_parts(self, table: exp.Expr) -> t.Tuple[str, str]:
        parts = [p.name for p in table.parts] if isinstance(table, exp.Table) else [table.name]
        return (self.catalog, parts[0]) if len(parts) == 1 else (parts[-2], parts[-1])

    def _target(self, e: exp.Expr) -> t.Tuple[exp.Table, t.Optional[exp.Schema]]:
        this = e.this
        if isinstance(this, exp.Schema):
            return this.this, this
        return this, None

    def _properties(self, e: exp.Create) -> t.Tuple[t.Optional[str], t.List[str], t.List[exp.Expr], t.Optional[exp.Expr]]:
        key_type, keys, partition, refresh = None, [], [], None
        for prop in (e.args.get("properties") or exp.Properties(expressions=[])).expressions:
            if isinstance(prop, (exp.PrimaryKey, exp.DuplicateKeyProperty, exp.UniqueKeyProperty)) or type(prop).__name__ == "AggregateKeyProperty":
                key_type = {"PrimaryKey": "PRIMARY", "DuplicateKeyProperty": "DUPLICATE", "UniqueKeyProperty": "UNIQUE"}.get(type(prop).__name__, "AGGREGATE")
                keys = [c.name for c in prop.expressions]
            elif isinstance(prop, exp.PartitionedByProperty):
                inner = prop.this
                partition = list(inner.expressions) if isinstance(inner, (exp.Schema, exp.Tuple)) else [inner]
            elif isinstance(prop, (exp.PartitionByRangeProperty, exp.PartitionByListProperty)):
                partition = list(prop.args.get("partition_expressions") or [])
            elif isinstance(prop, exp.RefreshTriggerProperty):
                refresh = prop
        return key_type, keys, partition, refresh

    def _check_key_prefix(self, columns: t.List[str], keys: t.List[str]) -> None:
        if keys and [c.lower() for c in columns[: len(keys)]] != [k.lower() for k in keys]:
            raise SRError(f"Key columns {keys} must be the first columns of the table, in order (columns: {columns})", 1064, "key-prefix")

    def _check_types(self, schema: exp.Schema) -> None:
        for col in schema.expressions:
            kind = col.args.get("kind") if isinstance(col, exp.ColumnDef) else None
            if kind is not None and kind.is_type(exp.DataType.Type.VARCHAR) and kind.expressions:
                if int(kind.expressions[0].name) > 1048576:
                    raise SRError("VARCHAR length exceeds 1048576", 1064, "varchar-max")

    def create_table(self, e: exp.Create) -> t.Any:
        table, schema = self._target(e)
        catalog, db, name = self.qualify(table)
        existing = self.state.get(catalog, db, name)
        if existing and e.args.get("exists"):
            return [], []
        if existing:
            raise SRError(f"Table '{name}' already exists", 1050)
        key_type, keys, partition, _ = self._properties(e)
        target = f'"{catalog}"."{db}"."{name}"'
        for prop in (e.args.get("properties") or exp.Properties(expressions=[])).expressions:
            if isinstance(prop, exp.LikeProperty):
                src = self.state.get(*self.qualify(prop.this))
                self.run(f"CREATE TABLE {target} AS SELECT * FROM {self.duck(prop.this)} LIMIT 0")
                self.register(Obj(catalog, db, name, "table", ddl=e.sql(DIALECT), key_type=src.key_type if src else None,
                                  keys=list(src.keys) if src else [], partition=list(src.partition) if src else []))
                return [], []
        query = e.expression
        if query is not None:
            self._check_key_prefix(list(query.named_selects), keys)
            self.run(f"CREATE TABLE {target} AS {self.duck(query)}")
        else:
            assert schema is not None
            columns = [c for c in schema.expressions if isinstance(c, exp.ColumnDef)]
            pk_in_schema = [c.name for c in schema.expressions if isinstance(c, exp.PrimaryKey) for c in c.expressions]
            if pk_in_schema and not keys:
                key_type, keys = "PRIMARY", pk_in_schema
            self._check_key_prefix([c.name for c in columns], keys)
            self._check_types(schema)
            defs = []
            for col in columns:
                kind = col.args.get("kind")
                defs.append(f'"{col.name}" {kind.sql("duckdb") if kind is not None else "VARCHAR"}')
            self.run(f"CREATE TABLE {target} ({', '.join(defs)})")
        self.register(Obj(catalog, db, name, "table", ddl=e.sql(DIALECT), key_type=key_type, keys=keys,
                          partition=[p.sql("duckdb") for p in partition]))
        return [], []

    def register(self, obj: Obj) -> None:
        self.state.objects[obj.key] = obj

    def create_view(self, e: exp.Create) -> t.Any:
        table, schema = self._target(e)
        catalog, db, name = self.qualify(table)
        existing = self.state.get(catalog, db, name)
        if existing and existing.kind != "view":
            raise SRError(f"'{name}' exists and is not a view", 1050)
        if existing and not e.args.get("replace"):
            if e.args.get("exists"):
                return [], []
            raise SRError(f"View '{name}' already exists", 1050)
        columns = [c.name for c in schema.expressions] if schema is not None else []
        query = self.duck(e.expression)
        alias = f" ({', '.join(chr(34) + c + chr(34) for c in columns)})" if columns else ""
        self.run(f'CREATE OR REPLACE VIEW "{catalog}"."{db}"."{name}"{alias} AS {query}')
        if existing:  # CREATE OR REPLACE VIEW deactivates MVs built on it [rule mv-inactive]
            self.state.deactivate_dependents(existing.key)
        self.register(Obj(catalog, db, name, "view", ddl=e.sql(DIALECT)))
        return [], []

    def create_mv(self, e: exp.Create) -> t.Any:
        table, schema = self._target(e)
        catalog, db, name = self.qualify(table)
        if self.state.get(catalog, db, name):
            if e.args.get("exists"):
                return [], []
            raise SRError(f"Materialized view '{name}' already exists", 1050)
        _, _, partition, refresh = self._properties(e)
        if refresh is None:
            raise SRError("An async materialized view needs REFRESH ASYNC or MANUAL", 1064, "mv-refresh-required")
        query = self._qualify_tables(e.expression.copy())
        bases = {(tb.catalog, tb.db.lower(), tb.name.lower()) for tb in query.find_all(exp.Table) if tb.db}
        mv_query = query.sql("duckdb")
        columns = [c.name for c in schema.expressions] if schema is not None else []
        if columns:
            mv_query = f"SELECT * FROM ({mv_query}) AS q({', '.join(chr(34) + c + chr(34) for c in columns)})"
        deferred = "DEFERRED" in refresh.sql(DIALECT).upper()
        self.run(f'CREATE TABLE "{catalog}"."{db}"."{name}" AS {mv_query}{" LIMIT 0" if deferred else ""}')
        self.register(Obj(catalog, db, name, "mv", ddl=e.sql(DIALECT), mv_query=mv_query, bases=bases,
                          refresh="MANUAL" if "MANUAL" in refresh.sql(DIALECT).upper() else "ASYNC",
                          partition=[p.sql("duckdb") for p in partition]))
        return [], []

    def refresh(self, target: exp.Expr, sql: str) -> t.Any:
        table = target if isinstance(target, exp.Table) else exp.to_table(target.name)
        obj = self.state.get(*self.qualify(table))
        if obj is None or obj.kind != "mv":
            raise SRError(f"Materialized view '{table.name}' does not exist", 1064)
        if not obj.active:
            raise SRError(f"Refresh materialized view {obj.name} failed: the materialized view is inactive", 1064, "mv-inactive")
        full = f'"{obj.catalog}"."{obj.db}"."{obj.name}"'
        self.run("BEGIN TRANSACTION")
        self.run(f"DELETE FROM {full}")
        self.run(f"INSERT INTO {full} {obj.mv_query}")
        self.run("COMMIT")
        return [], []

    def drop(self, e: exp.Drop) -> t.Any:
        kind = (e.args.get("kind") or "").upper()
        if kind in ("SCHEMA", "DATABASE"):
            catalog, name = self._schema_parts(e.this if e.this is not None else e.args["tables"][0])
            self.run(f'DROP SCHEMA {"IF EXISTS " if e.args.get("exists") else ""}"{catalog}"."{name}" CASCADE')
            for key in [k for k in self.state.objects if k[0] == catalog and k[1] == name.lower()]:
                self.state.objects.pop(key)
            return [], []
        tables = [e.this, *(e.args.get("tables") or [])] if e.this is not None else list(e.args.get("tables") or [])
        materialized = bool(e.args.get("materialized")) or kind == "MATERIALIZED VIEW"
        for table in tables:
            catalog, db, name = self.qualify(table)
            obj = self.state.get(catalog, db, name)
            if obj is None:
                if e.args.get("exists"):
                    continue
                raise SRError(f"Unknown table '{db}.{name}'", 1051)
            wanted = "mv" if materialized else ("view" if kind == "VIEW" else "table")
            if obj.kind != wanted:
                raise SRError(f"'{name}' is a {obj.kind}, not a {wanted}: use the matching DROP", 1064)
            self.run(f'DROP {"VIEW" if obj.kind == "view" else "TABLE"} "{catalog}"."{db}"."{name}"')
            self.state.objects.pop(obj.key)
            self.state.deactivate_dependents(obj.key)
        return [], []

    def alter(self, e: exp.Alter) -> t.Any:
        table = e.this
        catalog, db, name = self.qualify(table)
        obj = self.state.get(catalog, db, name)
        if obj is None:
            raise SRError(f"Unknown table '{db}.{name}'", 1146)
        full = f'"{catalog}"."{db}"."{name}"'
        for action in e.args.get("actions") or []:
            if isinstance(action, exp.AlterRename):
                new = action.this
                if new.db or new.catalog:
                    raise SRError("The new name of RENAME must not be qualified", 1064, "rename")
                if obj.kind == "view":
                    raise SRError("Views cannot be renamed", 1064, "rename")
                self.run(f'ALTER TABLE {full} RENAME TO "{new.name}"')
                self.state.objects.pop(obj.key)
                self.state.deactivate_dependents(obj.key)
                obj.name = new.name
                self.register(obj)
            elif type(action).__name__ == "SwapTable":
                other = self.state.get(*self.qualify(action.this if isinstance(action.this, exp.Table) else exp.to_table(action.this.name)))
                if other is None:
                    raise SRError("Unknown table to swap with", 1146)
                tmp = f"__swap_{obj.name}"
                other_full = f'"{other.catalog}"."{other.db}"."{other.name}"'
                self.run("BEGIN TRANSACTION")
                self.run(f'ALTER TABLE {full} RENAME TO "{tmp}"')
                self.run(f'ALTER TABLE {other_full} RENAME TO "{obj.name}"')
                self.run(f'ALTER TABLE "{catalog}"."{db}"."{tmp}" RENAME TO "{other.name}"')
                self.run("COMMIT")
                self.state.objects.pop(obj.key), self.state.objects.pop(other.key)
                obj.name, other.name = other.name, obj.name
                self.register(obj), self.register(other)
                self.state.deactivate_dependents(obj.key), self.state.deactivate_dependents(other.key)
            elif isinstance(action, exp.ColumnDef):
                self.run(f'ALTER TABLE {full} ADD COLUMN "{action.name}" {action.args["kind"].sql("duckdb")}')
            elif isinstance(action, exp.Drop):
                self.run(f'ALTER TABLE {full} DROP COLUMN "{action.this.name}"')
            elif isinstance(action, exp.AlterColumn):
                if action.args.get("dtype") is not None:
                    self.run(f'ALTER TABLE {full} ALTER COLUMN "{action.this.name}" TYPE {action.args["dtype"].sql("duckdb")}')
            elif type(action).__name__ == "ModifyColumn" and action.this.args.get("kind") is None:
                continue  # MODIFY COLUMN c COMMENT '...': comments are not kept
            elif isinstance(action, (exp.AlterSet, exp.Property, exp.Properties, exp.SchemaCommentProperty)):
                continue  # comments / properties: recorded nowhere, accepted
            else:
                raise SRError(f"Unsupported ALTER: {action.sql(DIALECT)}", 1064)
        return [], []

    # ------------------------------------------------------------------ DML
    def insert(self, e: exp.Insert) -> t.Any:
        target = e.this.this if isinstance(e.this, exp.Schema) else e.this
        columns = [c.name for c in e.this.expressions] if isinstance(e.this, exp.Schema) else []
        catalog, db, name = self.qualify(target)
        obj = self.state.get(catalog, db, name)
        if obj is None:
            raise SRError(f"Unknown table '{db}.{name}'", 1146)
        if obj.kind == "mv":
            raise SRError(f"Cannot insert into the materialized view '{name}'", 1064, "no-insert-mv")
        if obj.kind == "view":
            raise SRError(f"Cannot insert into the view '{name}'", 1064)
        hint = e.args.get("hint")
        dynamic = bool(hint) and "DYNAMIC_OVERWRITE" in hint.sql(DIALECT).upper() and "TRUE" in hint.sql(DIALECT).upper()
        full = f'"{catalog}"."{db}"."{name}"'
        cols = f" ({', '.join(chr(34) + c + chr(34) for c in columns)})" if columns else ""
        source = self.duck(e.expression)
        own_txn = not self.in_txn
        if own_txn:
            self.run("BEGIN TRANSACTION")
        try:
            self.run(f"CREATE OR REPLACE TEMP TABLE __incoming AS {source}")
            names = columns or [r[0] for r in self.run(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = ? AND table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [catalog, db, name]).fetchall()]
            width = len(self.run("SELECT * FROM __incoming LIMIT 0").description)
            renamed = ", ".join(chr(34) + c + chr(34) for c in names[:width])
            self.run(f"CREATE OR REPLACE TEMP TABLE __incoming AS SELECT * FROM __incoming AS i({renamed})")
            cols = f" ({renamed})"
            if e.args.get("overwrite"):
                if dynamic and obj.partition:
                    parts = ", ".join(obj.partition)
                    self.run(f"DELETE FROM {full} WHERE ({parts}) IN (SELECT DISTINCT {parts} FROM __incoming)")
                else:
                    self.run(f"DELETE FROM {full}")
            elif obj.key_type in ("PRIMARY", "UNIQUE") and obj.keys:  # [rule pk-upsert]
                keys = ", ".join(f'"{k}"' for k in obj.keys)
                self.run(f"DELETE FROM {full} WHERE ({keys}) IN (SELECT {keys} FROM __incoming)")
            self.run(f"INSERT INTO {full}{cols} SELECT * FROM __incoming")
            self.run("DROP TABLE __incoming")
            if own_txn:
                self.run("COMMIT")
        except Exception:
            if own_txn:
                self.run("ROLLBACK")
            raise
        return [], []

    def delete(self, e: exp.Delete) -> t.Any:
        catalog, db, name = self.qualify(e.this)
        obj = self.state.get(catalog, db, name)
        if obj is None or obj.kind != "table":
            raise SRError(f"Unknown table '{db}.{name}'", 1146)
        where = e.args.get("where")
        if where is None:
            raise SRError("DELETE without WHERE", 1064, "delete-where")
        if obj.key_type != "PRIMARY":
            self._check_simple_delete(where.this, obj)
        self.run(f"DELETE FROM {self.duck(e.this)} {self._qualify_tables(where.copy()).sql('duckdb')}")
        return [], []

    def _check_simple_delete(self, cond: exp.Expr, obj: Obj) -> None:
        if isinstance(cond, exp.And):
            self._check_simple_delete(cond.this, obj)
            self._check_simple_delete(cond.expression, obj)
            return
        if isinstance(cond, exp.Paren):
            self._check_simple_delete(cond.this, obj)
            return
        ok = isinstance(cond, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In)) or (
            isinstance(cond, exp.Not) and isinstance(cond.this, exp.In)
        )
        inner = cond.this if isinstance(cond, exp.Not) else cond
        if not ok or inner.find(exp.Select) or not isinstance(inner.this, exp.Column):
            raise SRError(f"DELETE condition not supported on a {obj.key_type or 'DUPLICATE'} KEY table: {cond.sql(DIALECT)}", 1064, "delete-simple")
        if obj.key_type in ("UNIQUE", "AGGREGATE") and inner.this.name.lower() not in [k.lower() for k in obj.keys]:
            raise SRError(f"DELETE on a {obj.key_type} KEY table may only filter key columns", 1064, "delete-simple")

    # ------------------------------------------------------------------ SHOW / DESCRIBE / commands
    def describe(self, target: exp.Expr) -> t.Any:
        if isinstance(target, exp.Query):
            return self.result("EXPLAIN " + self.duck(target))
        catalog, db, name = self.qualify(target)
        rows = self.run(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_catalog = ? AND lower(table_schema) = lower(?) AND lower(table_name) = lower(?) ORDER BY ordinal_position",
            [catalog, db, name],
        ).fetchall()
        if not rows:
            raise SRError(f"Unknown table '{db}.{name}'", 1146)
        obj = self.state.get(catalog, db, name)
        keys = {k.lower() for k in (obj.keys if obj else [])}
        return [
            (col, _duck_type_to_starrocks(typ), "YES" if nullable == "YES" else "NO", "true" if col.lower() in keys else "false", None, "")
            for col, typ, nullable in rows
        ], ["Field", "Type", "Null", "Key", "Default", "Extra"]

    def show(self, e: exp.Show) -> t.Any:
        what = e.name.upper()
        if what in ("TABLES", "FULL TABLES"):
            db = e.args.get("db")
            catalog, schema = self.catalog, db.name if db is not None else self.database
            return self._show_tables(catalog, schema)
        if what == "DATABASES":
            rows = self.run(
                "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? ORDER BY 1", [self.catalog]
            ).fetchall()
            return [(r[0],) for r in rows if r[0] not in HIDDEN_SCHEMAS] + [("information_schema",)], ["Database"]
        if what in ("CREATE TABLE", "CREATE VIEW", "CREATE MATERIALIZED VIEW"):
            target = e.this if isinstance(e.this, exp.Table) else exp.to_table(e.name)
            target = e.args.get("target") or target
            table = target if isinstance(target, exp.Table) else exp.table_(target.name, db=e.args.get("db").name if e.args.get("db") else None)
            obj = self.state.get(*self.qualify(table))
            if obj is None:
                raise SRError("Unknown table", 1146)
            return [(obj.name, obj.ddl)], ["Table", "Create Table"]
        if what == "VARIABLES":
            return self._show_variables(e)
        raise SRError(f"Unsupported SHOW {what}", 1064)

    def _show_tables(self, catalog: str, schema: t.Optional[str]) -> t.Any:
        if not schema:
            raise SRError("No database selected", 1046)
        rows = self.run(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND lower(table_schema) = lower(?) ORDER BY 1",
            [catalog, schema],
        ).fetchall()
        return [(r[0],) for r in rows], [f"Tables_in_{schema}"]

    def command(self, sql: str) -> t.Any:
        """Statements sqlglot does not parse (exp.Command or a parse error), matched as text."""
        m = re.match(r"(?is)^CREATE\s+EXTERNAL\s+CATALOG\s+(IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*(?:COMMENT\s+'[^']*'\s*)?PROPERTIES\s*\((.*)\)$", sql)
        if m:
            name = m.group(2)
            if name in self.state.catalogs:
                if m.group(1):
                    return [], []
                raise SRError(f"Catalog '{name}' already exists", 1064)
            props = _eq_pairs(m.group(3))
            if "type" not in props:
                raise SRError("CREATE EXTERNAL CATALOG needs the 'type' property", 1064)
            self.run(f'ATTACH \':memory:\' AS "{name}"')
            self.state.catalogs[name] = props
            return [], []
        m = re.match(r"(?is)^DROP\s+CATALOG\s+(IF\s+EXISTS\s+)?`?(\w+)`?$", sql)
        if m:
            if m.group(2) in self.state.catalogs and m.group(2) != DEFAULT_CATALOG:
                self.run(f'DETACH "{m.group(2)}"')
                self.state.catalogs.pop(m.group(2))
            elif not m.group(1):
                raise SRError(f"Unknown catalog '{m.group(2)}'", 1064)
            return [], []
        m = re.match(r"(?is)^SET\s+CATALOG\s+`?(\w+)`?$", sql)
        if m:
            if m.group(1) not in self.state.catalogs:
                raise SRError(f"Unknown catalog '{m.group(1)}'", 1049)
            self.catalog, self.database = m.group(1), None
            self.run(f'USE "{self.catalog}"')
            return [], []
        if re.match(r"(?is)^SHOW\s+CATALOGS$", sql):
            return [(n, "Internal" if n == DEFAULT_CATALOG else p.get("type", ""), "") for n, p in self.state.catalogs.items()], ["Catalog", "Type", "Comment"]
        m = re.match(r"(?is)^SHOW\s+(?:FULL\s+)?TABLES\s+FROM\s+`?(\w+)`?(?:\.`?(\w+)`?)?$", sql)
        if m:
            catalog, db = (m.group(1), m.group(2)) if m.group(2) else (self.catalog, m.group(1))
            return self._show_tables(catalog, db)
        m = re.match(r"(?is)^ALTER\s+MATERIALIZED\s+VIEW\s+([`\w.]+)\s+(ACTIVE|INACTIVE|RENAME\s+`?(\w+)`?)$", sql)
        if m:
            obj = self.state.get(*self.qualify(exp.to_table(m.group(1).replace("`", ""))))
            if obj is None or obj.kind != "mv":
                raise SRError("Unknown materialized view", 1064)
            action = m.group(2).upper()
            if action == "ACTIVE":
                obj.active = True
            elif action == "INACTIVE":
                obj.active = False
            else:
                self.run(f'ALTER TABLE "{obj.catalog}"."{obj.db}"."{obj.name}" RENAME TO "{m.group(3)}"')
                self.state.objects.pop(obj.key)
                obj.name = m.group(3)
                self.register(obj)
            return [], []
        m = re.match(r"(?is)^REFRESH\s+MATERIALIZED\s+VIEW\s+([`\w.]+)(\s+FORCE)?(\s+WITH\s+(SYNC|ASYNC)\s+MODE)?$", sql)
        if m:
            return self.refresh(exp.to_table(m.group(1).replace("`", "")), sql)
        if re.match(r"(?is)^ADMIN\s+SET\s+FRONTEND\s+CONFIG", sql):
            return [], []
        raise SRError(f"Unsupported statement: {sql[:120]}", 1064)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    if not args.verbose:  # refused statements are expected in tests: the client gets the error, not the log
        logging.getLogger("mysql_mimic").setLevel(logging.CRITICAL)
        logging.getLogger("sqlglot").setLevel(logging.CRITICAL)
    state = Catalog()

    async def serve() -> None:
        server = MysqlServer(session_factory=lambda: StarRocksSession(state))
        await server.start_server(host=args.host, port=args.port)
        port = server.sockets()[0].getsockname()[1]
        print(f"READY {port}", flush=True)
        await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
