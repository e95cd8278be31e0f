"""Translation-time schema discovery with an in-memory DuckDB.

Python models must declare their columns, and Seeknal Python nodes do not. The oracle builds each upstream
model as a view (file sources read a sample of the real files), runs the node's function on a small sample,
and reads the result's column types. Only used where SQLMesh needs declared types.
"""

from __future__ import annotations

import typing as t

import duckdb
import pandas as pd
from sqlglot import exp

from seeknal_sqlmesh.translators.base import ModelSpec, TranslationContext

SAMPLE_ROWS = 1000


def _render_for_duckdb(query: exp.Expr, ctx: TranslationContext) -> str:
    """Swap SQLMesh macros for plain values: files resolve like `@seeknal_file`, run dates become a fixed day."""
    from sqlmesh.core import dialect as d

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, d.MacroFunc) and isinstance(node.this, exp.Anonymous):
            name = node.this.name.lower()
            if name == "seeknal_file":
                rel = node.this.expressions[0].name
                return exp.Literal.string(str((ctx.output_dir / rel).resolve()))
            return exp.Literal.string("1970-01-01")
        if isinstance(node, d.MacroVar):
            return exp.Literal.string("1970-01-01")
        return node

    return query.transform(swap, copy=True).sql(dialect="duckdb")


class SchemaOracle:
    def __init__(self, ctx: TranslationContext, specs: t.Dict[str, ModelSpec]):
        self.ctx = ctx
        self.specs = specs
        self.con = duckdb.connect()
        self._built: t.Set[str] = set()

    def _ensure(self, node_id: str) -> None:
        if node_id in self._built or node_id in self.ctx.table_names:
            return
        spec = self.specs.get(node_id)
        if spec is None:
            raise LookupError(f"'{node_id}' has no translated model to sample")
        for up in self.ctx.project.edges.get(node_id, []):
            self._ensure(up)
        self.con.execute(exp.Create(this=exp.to_identifier(spec.schema_name), kind="SCHEMA", exists=True).sql("duckdb"))
        target = exp.table_(spec.table_name, db=spec.schema_name)
        if spec.query is not None:
            view = exp.Create(this=target, kind="VIEW", expression=spec.query)
            self.con.execute(_render_for_duckdb(view, self.ctx))
        elif spec.sample is not None:
            self.con.register("__seeknal_sample", spec.sample)
            self.con.execute(
                exp.Create(this=target, kind="TABLE", expression=exp.select("*").from_("__seeknal_sample")).sql(
                    "duckdb"
                )
            )
            self.con.unregister("__seeknal_sample")
        else:
            schema = exp.Schema(
                this=target,
                expressions=[
                    exp.ColumnDef(this=exp.to_identifier(c), kind=exp.DataType.build(ty, dialect="duckdb"))
                    for c, ty in spec.columns.items()
                ],
            )
            self.con.execute(exp.Create(this=schema, kind="TABLE").sql("duckdb"))
        self._built.add(node_id)

    def sample(self, node_id: str) -> pd.DataFrame:
        self._ensure(node_id)
        kind, name = node_id.split(".", 1)
        return self.con.execute(exp.select("*").from_(exp.table_(name, db=kind)).limit(SAMPLE_ROWS).sql("duckdb")).df()

    def columns_of_frame(self, frame: pd.DataFrame) -> t.Dict[str, str]:
        relation = self.con.from_df(frame)
        return {name: str(dtype) for name, dtype in zip(relation.columns, relation.types)}
