"""The one SQL toolkit: small sqlglot builders and the one way to turn a tree into SQL text.

Every module that builds SQL (translators, macros, the feature store, the semantic layer, StarRocks DDL) uses these,
so names are quoted the same way everywhere and no SQL is assembled from strings.

`Expr` is the one expression type used in signatures (sqlglot's base class of every node).

`to_sql(tree, dialect)` renders through private subclasses of each dialect's generator. sqlglot caches a generator
class's dispatch table the first time it renders; SQLMesh adds its macro nodes (`@start_ts`, `@seeknal_date(...)`)
to the dialects' generators when it is imported. If we rendered with a dialect's own generator before SQLMesh was
imported, that cached table would lack the macro nodes and SQLMesh would later fail in the same process
("Unsupported expression type MacroVar"). Subclasses have caches of their own, so rendering here is safe before and
after SQLMesh is imported, and costs no SQLMesh import. (SQLMesh macros are the exception: SQLMesh serializes a macro
with every global it references, and this module's generator cache cannot be serialized, so `macros/` renders with
plain sqlglot — macros run inside SQLMesh, after its generators are complete.)

Statements sqlglot cannot express, so they are written as text (each with the reason):
- StarRocks `CREATE EXTERNAL CATALOG ... COMMENT ... PROPERTIES (...)` (`starrocks/ddl.py`, `_catalog_sql`): sqlglot
  has no node for catalogs (30.8 parses the statement into an opaque `Command`); the catalog name, comment and every
  property key and value are still quoted by sqlglot (`ident()` / `string()` rendered with `to_sql`).
- StarRocks `REFRESH MATERIALIZED VIEW ... WITH SYNC MODE` (`starrocks/adapter.py`, `refresh_materialized_view`):
  sqlglot 30.8's `exp.Refresh` has no SYNC MODE clause, so that clause is appended to the node's SQL (without it,
  the statement is the `exp.Refresh` node itself).
"""

from __future__ import annotations

import functools
import typing as t

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

Expr = exp.Expr
_GENERATORS: t.Dict[type, type] = {}


def to_sql(tree: Expr, dialect: t.Optional[str] = "duckdb", pretty: bool = False) -> str:
    """SQL text of `tree` in `dialect` (see the module docstring for why this, not `tree.sql()`)."""
    d = Dialect.get_or_raise(dialect)
    base = d.generator_class
    cls = _GENERATORS.get(base)
    if cls is None:
        cls = _GENERATORS[base] = type(f"Seeknal{base.__name__}", (base,), {})
    return cls(dialect=d, pretty=pretty).generate(tree, copy=True)


def ident(name: str, quoted: bool = True) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=quoted)


def col(name: str, table: t.Optional[str] = None, *, quoted: bool = True) -> exp.Column:
    """A quoted column, optionally qualified by a (quoted) table alias. `quoted=False` leaves the names bare, for SQL
    whose unquoted names SQLMesh normalizes like the user's own (translated rule checks)."""
    return exp.Column(this=ident(name, quoted), table=ident(table, quoted) if table else None)


def alias(expression: Expr, name: str) -> exp.Alias:
    """`expression AS "name"`."""
    return exp.Alias(this=expression, alias=ident(name))


def table(name: str, as_: t.Optional[str] = None, dialect: str = "duckdb") -> exp.Table:
    """A (possibly qualified, possibly quoted) table name read as SQL, with an optional quoted alias."""
    node = exp.to_table(name, dialect=dialect)
    if as_:
        node.set("alias", exp.TableAlias(this=ident(as_)))
    return node


def subquery(query: exp.Query, name: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=ident(name)))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def and_all(conditions: t.Sequence[t.Optional[Expr]]) -> t.Optional[Expr]:
    """AND of the conditions that are not None, left-deep; None when there are none.

    An OR among several conditions is parenthesized: sqlglot prints the tree as it is, and `a OR b AND c` would
    mean `a OR (b AND c)`."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    if len(present) > 1:
        present = [exp.Paren(this=c) if isinstance(c, (exp.Or, exp.Xor)) else c for c in present]
    out = present[0]
    for c in present[1:]:
        out = exp.And(this=out, expression=c)
    return out


def cte_table(name: str, as_: t.Optional[str] = None) -> exp.Table:
    """A table given by one (quoted) name, not read as SQL: a CTE or another generated name; optional quoted alias."""
    node = exp.Table(this=ident(name))
    if as_:
        node.set("alias", exp.TableAlias(this=ident(as_)))
    return node


def cte(query: exp.Query, name: str) -> exp.CTE:
    """`"name" AS (query)`, for a WITH clause."""
    return exp.CTE(this=query, alias=exp.TableAlias(this=ident(name)))


@functools.lru_cache(maxsize=64)
def _data_type(name: str) -> exp.DataType:
    return exp.DataType.build(name)


def cast(expression: Expr, to: str) -> exp.Cast:
    """`CAST(expression AS to)`; `to` is a type name (`date`, `timestamp`, `double`, ...)."""
    return exp.Cast(this=expression, to=_data_type(to).copy())


def qualify(tree: Expr, table: str) -> Expr:
    """A copy of `tree` whose unqualified columns read from `table` (quoted); the columns keep their own quoting."""

    def fix(node: Expr) -> Expr:
        if isinstance(node, exp.Column) and not node.table:
            return exp.Column(this=node.this.copy(), table=ident(table))
        return node

    return tree.copy().transform(fix, copy=False)
