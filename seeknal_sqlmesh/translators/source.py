"""`source` nodes.

Files (csv, parquet, json, jsonl, excel) become SQL models reading the file with DuckDB's readers, the same
readers Seeknal uses, so types match. Paths are written relative to the output project and resolved by the
`@seeknal_file` macro at run time, so the project works from any working directory. SQLite files are read by a
Python model (stdlib sqlite3: no DuckDB extension download needed). Database and lakehouse tables (postgres,
starrocks, iceberg) are external models on the gateway of their connection.
"""

from __future__ import annotations

import sqlite3
import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import SourceNode
from seeknal_sqlmesh.project.templating import TemplateError, resolve
from seeknal_sqlmesh.translators.base import ExternalSpec, ModelSpec, NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.gateways import gateway_for_source
from seeknal_sqlmesh.translators.kinds import apply_node_metadata, model_kind
from seeknal_sqlmesh.translators.schema import oracle
from seeknal_sqlmesh.translators.sql import macro_call

FILE_READERS = {
    "csv": "read_csv_auto",
    "parquet": "read_parquet",
    "json": "read_json_auto",
    "jsonl": "read_json_auto",
    "hive": "read_parquet",
}
EXTERNAL_TYPES = {"postgresql", "starrocks", "iceberg"}
UNSUPPORTED = {"bigquery", "snowflake", "redshift"}


def _file_arg(path: str) -> exp.Expr:
    return macro_call("seeknal_file", path)


def _eq(name: str, value: t.Any) -> exp.Expr:
    return exp.EQ(this=exp.column(name), expression=exp.convert(value))


def file_reader(node: SourceNode, table: str, ctx: TranslationContext) -> exp.Expr:
    """`read_*('<path>', options)` as Seeknal's source executor calls it."""
    source, params = node.source, node.params
    args: t.List[exp.Expr] = [_file_arg(ctx.project_path(table))]
    if source == "csv":
        options = {}
        if "delimiter" in params or "delim" in params:
            options["delim"] = params.get("delimiter", params.get("delim"))
        for key in ("header", "skip"):
            if key in params:
                options[key] = params[key]
        if options:
            return exp.Anonymous(this="read_csv", expressions=args + [_eq(k, v) for k, v in options.items()])
    if source in ("json", "jsonl"):
        fmt = {"newline": "newline_delimited", "array": "array"}.get(str(params.get("format", "")))
        if source == "jsonl":
            fmt = "newline_delimited"
        if fmt:
            args.append(_eq("format", fmt))
    if source == "excel":
        if params.get("sheet_name"):
            args.append(_eq("sheet", params["sheet_name"]))
        return exp.Anonymous(this="read_xlsx", expressions=args)
    return exp.Anonymous(this=FILE_READERS[source], expressions=args)


SQLITE_TO_DUCKDB = {
    "INTEGER": "BIGINT",
    "INT": "BIGINT",
    "REAL": "DOUBLE",
    "FLOAT": "DOUBLE",
    "DOUBLE": "DOUBLE",
    "NUMERIC": "DOUBLE",
    "TEXT": "TEXT",
    "VARCHAR": "TEXT",
    "BLOB": "BLOB",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMP",
    "BOOLEAN": "BOOLEAN",
}


def _sqlite_columns(path, table: str) -> t.Dict[str, str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        rows = con.execute("SELECT name, type FROM pragma_table_info(?)", (table,)).fetchall()
    return {name: SQLITE_TO_DUCKDB.get((decl or "TEXT").split("(")[0].upper(), "TEXT") for name, decl in rows}


SQLITE_MODEL = '''"""Seeknal source {node_id}: table {table!r} of the SQLite file {path!r} (generated; edit the Seeknal project)."""

import typing as t

import pandas as pd
from sqlmesh import ExecutionContext, model

from seeknal_sqlmesh.runtime.files import read_sqlite_table


@model(
    {name!r},
    kind="FULL",
    columns={columns!r},
    description={description!r},
    tags={tags!r},
)
def execute(context: ExecutionContext, **kwargs: t.Any) -> pd.DataFrame:
    return read_sqlite_table({path!r}, {table!r}, list({columns!r}))
'''


def translate(node: SourceNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    if node.source in UNSUPPORTED:
        ctx.error(
            node,
            "source",
            f"source type '{node.source}' cannot run in Seeknal 2.13 either",
            "use csv, parquet, json, jsonl, excel, sqlite, postgresql, starrocks or iceberg",
        )
        return out
    try:
        table = resolve(node.table or "", ctx.scope(node))
    except TemplateError as e:
        ctx.error(node, "table", str(e))
        return out
    params = {**ctx.project.profile.source_defaults.get(node.source, {}), **node.params}
    node.params = params

    if node.source in EXTERNAL_TYPES:
        return _external(node, table, ctx)
    if node.source == "sqlite":
        return _sqlite(node, table, ctx)
    if node.source not in FILE_READERS and node.source != "excel":
        ctx.error(node, "source", f"unknown source type '{node.source}'")
        return out

    query = exp.select("*").from_(file_reader(node, table, ctx))
    spec = ModelSpec(name=node.id, node=node, query=query, kind=model_kind(node, ctx))
    spec.columns = file_columns(node, query, ctx)
    apply_node_metadata(spec, node, ctx)
    out.models.append(spec)
    return out


UNKNOWN_TYPE = "UNKNOWN"


def file_columns(node: SourceNode, query: exp.Query, ctx: TranslationContext) -> t.Dict[str, str]:
    """The file's columns as DuckDB reads them now, in the file's order: declared on the model, so SQLMesh (and
    column lineage) know what `SELECT *` yields. The query stays `SELECT *`. A file that cannot be read at
    translation time (not there yet, a reader extension missing) declares nothing, with a warning.

    Types are declared UNKNOWN on purpose: with known source types SQLMesh creates every downstream FULL model whose
    column types it can infer with sqlglot's types instead of DuckDB's (`CREATE TABLE` from the inferred types, then
    `INSERT`), and sqlglot infers some differently: on the sample project SUM of an INTEGER became BIGINT instead of
    HUGEINT in 5 models and ROUND(x::numeric, 2) DOUBLE instead of DECIMAL(18,2). Unknown types keep every table
    exactly as DuckDB computes it, as without the declaration.
    """
    if node.source not in FILE_READERS and node.source != "excel":
        return {}
    try:
        names = list(oracle(ctx).describe(query))
    except Exception as e:  # DuckDB's errors (IO, missing extension, bad options): lineage stops, the model still runs
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        ctx.warn(
            node,
            "table",
            f"columns not declared: the file cannot be read at translation time ({first})",
            "column lineage stops at this source until the file exists and the project is translated again",
        )
        return {}
    upper = [n for n in names if n != n.lower()]
    if upper:  # SQLMesh would spell them in lower case wherever it expands `SELECT *` downstream: `Amount` -> amount
        ctx.warn(
            node,
            "table",
            f"columns not declared: the file has upper-case column names ({', '.join(upper[:3])})",
            "declaring them would rename them in lower case downstream; column lineage stops at this source",
        )
        return {}
    return dict.fromkeys(names, UNKNOWN_TYPE)


def _sqlite(node: SourceNode, table: str, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    db_path = node.params.get("path") or table
    sqlite_table = node.params.get("table")
    if not sqlite_table:
        ctx.error(node, "params.table", "a sqlite source needs params.table (the table inside the SQLite file)")
        return out
    absolute = (ctx.project.root / db_path).resolve()
    if not absolute.is_file():
        ctx.error(node, "table", f"SQLite file '{db_path}' does not exist")
        return out
    columns = _sqlite_columns(absolute, sqlite_table)
    if not columns:
        ctx.error(node, "params.table", f"table '{sqlite_table}' not found in '{db_path}'")
        return out
    spec = ModelSpec(name=node.id, node=node, columns=columns)
    apply_node_metadata(spec, node, ctx)
    spec.python_source = SQLITE_MODEL.format(
        node_id=node.id,
        name=node.id,
        table=sqlite_table,
        path=ctx.project_path(db_path),
        columns=columns,
        description=spec.description,
        tags=spec.tags,
    )
    out.models.append(spec)
    return out


def _external(node: SourceNode, table: str, ctx: TranslationContext) -> NodeTranslation:
    """Tables in another system: declared as external models so SQLMesh knows them, read through their gateway."""
    out = NodeTranslation()
    gateway = gateway_for_source(node, ctx)
    if node.params.get("query"):
        ctx.warn(node, "params.query", "pushdown query kept as metadata: SQLMesh reads the external table directly")
    columns = {c: (spec.dtype or "") for c, spec in node.columns.items() if spec.dtype}
    name = table if table.count(".") >= 1 else f"{node.params.get('schema', 'public')}.{table}"
    out.externals.append(
        ExternalSpec(name=name, node=node, gateway=gateway, columns=columns, description=node.description)
    )
    # No model is built: downstream SQL reads the external table itself (SQLMesh knows it from external_models.yaml).
    ctx.table_names[node.id] = name
    return out
