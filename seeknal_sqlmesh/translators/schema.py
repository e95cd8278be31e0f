"""Translation-time schema discovery with an in-memory DuckDB.

Python models must declare their columns, and Seeknal Python nodes do not. The oracle builds each upstream
model as a view (file sources read a sample of the real files), runs the node's function on a small sample,
and reads the result's column types. File sources declare the columns of their file (`describe`: DuckDB's
`DESCRIBE` of the reader query), so SQLMesh and column lineage see through their `SELECT *`. Only used where
declared types are needed.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlmesh.core import dialect as sqlmesh_dialect

from seeknal_sqlmesh.sqlkit import Expr, ident, to_sql
from seeknal_sqlmesh.translators.base import Sampler, TranslationContext
from seeknal_sqlmesh.translators.sql import model_table

if t.TYPE_CHECKING:
    import pandas as pd

SAMPLE_ROWS = 1000
SAMPLE_VIEW = "__seeknal_sample"


def oracle(ctx: TranslationContext) -> Sampler:
    """The context's oracle, made on first use: most projects never need one, and it opens a DuckDB."""
    if ctx.sampler is None:
        ctx.sampler = SchemaOracle(ctx)
    return ctx.sampler


def _render_for_duckdb(query: Expr, ctx: TranslationContext) -> str:
    """Swap SQLMesh macros for plain values: files resolve like `@seeknal_file`, run dates become a fixed day."""

    def swap(node: Expr) -> Expr:
        if isinstance(node, sqlmesh_dialect.MacroFunc) and isinstance(node.this, exp.Anonymous):
            name = node.this.name.lower()
            if name == "seeknal_file":
                rel = node.this.expressions[0].name
                return exp.Literal.string(str((ctx.output_dir / rel).resolve()))
            return exp.Literal.string("1970-01-01")
        if isinstance(node, sqlmesh_dialect.MacroVar):
            return exp.Literal.string("1970-01-01")
        return node

    return to_sql(query.transform(swap, copy=True))


class SchemaOracle:
    """Translated models built as views/tables of one in-memory DuckDB, upstreams first (see `Sampler`)."""

    def __init__(self, ctx: TranslationContext):
        # imported here: DuckDB brings pandas and numpy (a second), and most translations never need an oracle
        import duckdb

        self.ctx = ctx
        self.con = duckdb.connect()
        self._built: t.Set[str] = set()

    def _ensure(self, node_id: str) -> None:
        if node_id in self._built or node_id in self.ctx.table_names:
            return
        spec = self.ctx.specs.get(node_id)
        if spec is None:
            raise LookupError(f"'{node_id}' has no translated model to sample")
        for up in self.ctx.project.edges.get(node_id, []):
            self._ensure(up)
        self.con.execute(to_sql(exp.Create(this=ident(spec.schema_name), kind="SCHEMA", exists=True)))
        target = exp.table_(spec.table_name, db=spec.schema_name)
        if spec.query is not None:
            view = exp.Create(this=target, kind="VIEW", expression=spec.query)
            self.con.execute(_render_for_duckdb(view, self.ctx))
        elif spec.sample is not None:
            self.con.register(SAMPLE_VIEW, spec.sample)
            copy = exp.select("*").from_(exp.to_table(SAMPLE_VIEW))
            self.con.execute(to_sql(exp.Create(this=target, kind="TABLE", expression=copy)))
            self.con.unregister(SAMPLE_VIEW)
        else:
            schema = exp.Schema(
                this=target,
                expressions=[
                    exp.ColumnDef(this=ident(c), kind=exp.DataType.build(ty, dialect="duckdb"))
                    for c, ty in spec.columns.items()
                ],
            )
            self.con.execute(to_sql(exp.Create(this=schema, kind="TABLE")))
        self._built.add(node_id)

    def sample(self, node_id: str) -> pd.DataFrame:
        self._ensure(node_id)
        return self.con.execute(to_sql(exp.select("*").from_(model_table(node_id)).limit(SAMPLE_ROWS))).df()

    def describe(self, query: exp.Query) -> t.Dict[str, str]:
        """Column -> type of a query as DuckDB reports them (`DESCRIBE`), in the query's own column order."""
        rows = self.con.execute(f"DESCRIBE {_render_for_duckdb(query, self.ctx)}").fetchall()
        return {str(row[0]): str(row[1]) for row in rows}

    def columns_of_frame(self, frame: pd.DataFrame) -> t.Dict[str, str]:
        relation = self.con.from_df(frame)
        return {name: str(dtype) for name, dtype in zip(relation.columns, relation.types, strict=True)}
