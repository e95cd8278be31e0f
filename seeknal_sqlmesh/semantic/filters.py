"""Filters: one boolean SQL expression over dimension names, parsed with sqlglot (never spliced as text).

Accepted forms:
- plain SQL over query names: `channel = 'web' AND customer_id__segment IN ('vip', 'regular')`;
- MetricFlow templates: `{{ Dimension('order_id__channel') }}`, `{{ Dimension('channel', entity_path=['order_id']) }}`,
  `{{ TimeDimension('metric_time', 'month') }}`, `{{ Entity('customer_id') }}`, with `.grain('month')` /
  `.date_part('year')` chained.

Refused: anything that is not a single expression (a second statement, DDL, a SELECT), subqueries and table
references, `*`, aggregate and window functions, qualified columns (`t.col`), and expressions that cannot be
boolean (arithmetic, literals). Column names are resolved later, by the caller, against the semantic models.
"""

from __future__ import annotations

import ast
import functools
import re
import typing as t
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from seeknal_sqlmesh.sqlkit import Expr, to_sql

_TEMPLATE_RE = re.compile(r"\{\{(.*?)\}\}", re.S)
_PLACEHOLDER = "__sl_ref_{}"

_FORBIDDEN = (
    exp.Query,
    exp.Subquery,
    exp.Table,
    exp.Star,
    exp.AggFunc,
    exp.Window,
    exp.DDL,
    exp.DML,
    exp.Command,
    exp.Placeholder,
    exp.Parameter,
    exp.Into,
    exp.Lateral,
    exp.Join,
)
_BOOLEAN_ROOTS = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean, exp.Column, exp.Func, exp.Xor)
_NOT_BOOLEAN_FUNCS = (exp.Cast, exp.TryCast, exp.Coalesce, exp.Case, exp.If)


_OUTSIDE_FUNCS = {
    "query",
    "query_table",
    "getenv",
    "glob",
    "iceberg_scan",
    "delta_scan",
    "parquet_scan",
    "load",
    "system",
    "pg_read_file",
    "pg_read_binary_file",
    "lo_import",
    "dblink",
    "current_setting",
    "set_config",
}


class FilterError(ValueError):
    """A filter that is not a single boolean expression over dimension names (internal: the semantic layer reports
    it as a definition problem or a QueryError)."""


@dataclass(frozen=True)
class ParsedFilter:
    text: str
    expression: Expr  # columns carry the referenced names (templates already replaced); shared: never modified
    names: t.Tuple[str, ...]

    def bind(self, mapping: t.Mapping[str, Expr]) -> Expr:
        return bind(self.expression, mapping)


def bind(expression: Expr, mapping: t.Mapping[str, Expr]) -> Expr:
    """A copy of a parsed filter with every name in `mapping` replaced by its SQL expression."""

    def swap(node: Expr) -> Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in mapping:
            value = mapping[node.name]
            return exp.paren(value.copy(), copy=False) if _needs_parens(value) else value.copy()
        return node

    return expression.copy().transform(swap, copy=False)


def _needs_parens(e: Expr) -> bool:
    return isinstance(e, (exp.Binary, exp.Not, exp.Neg)) and not isinstance(e, exp.Dot)


def _literal(node: ast.AST, text: str) -> t.Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise FilterError(f"'{{{{ {text} }}}}': only literal arguments are allowed") from None


def template_name(inner: str) -> str:
    """`Dimension('x', entity_path=['e']).grain('month')` -> 'e__x__month'."""
    text = inner.strip()
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise FilterError(f"'{{{{ {text} }}}}' is not a Dimension(), TimeDimension() or Entity() call") from None
    chain: t.List[t.Tuple[str, t.List[t.Any]]] = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        chain.append((node.func.attr, [_literal(a, text) for a in node.args]))
        node = node.func.value
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise FilterError(f"'{{{{ {text} }}}}' is not a Dimension(), TimeDimension() or Entity() call")
    fn = node.func.id
    args = [_literal(a, text) for a in node.args]
    if any(k.arg is None for k in node.keywords):
        raise FilterError(f"'{{{{ {text} }}}}': only literal arguments are allowed")
    kwargs = {str(k.arg): _literal(k.value, text) for k in node.keywords}
    if fn == "Metric":
        raise FilterError(f"'{{{{ {text} }}}}': filtering on metrics is not supported")
    if fn not in ("Dimension", "TimeDimension", "Entity") or not args or not isinstance(args[0], str):
        raise FilterError(f"'{{{{ {text} }}}}' is not a Dimension(), TimeDimension() or Entity() call")
    allowed = {"entity_path", "time_granularity_name", "date_part_name", "descending", "grain"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise FilterError(f"'{{{{ {text} }}}}': unknown argument {', '.join(sorted(unknown))}")
    parts = [*(str(p) for p in kwargs.get("entity_path") or []), args[0]]
    grain = kwargs.get("time_granularity_name") or kwargs.get("grain")
    date_part = kwargs.get("date_part_name")
    if fn == "TimeDimension" and len(args) > 1:
        grain = args[1]
    for method, margs in reversed(chain):
        if method == "grain" and margs:
            grain = margs[0]
        elif method == "date_part" and margs:
            date_part = margs[0]
        elif method != "descending":
            raise FilterError(f"'{{{{ {text} }}}}': unknown method .{method}()")
    if fn == "Entity" and (grain or date_part):
        raise FilterError(f"'{{{{ {text} }}}}': an entity has no grain")
    name = "__".join(parts)
    if date_part:
        name += f"__extract_{str(date_part).lower()}"
    elif grain:
        name += f"__{str(grain).lower()}"
    return name


def parse_filter(text: str, dialect: str = "duckdb") -> ParsedFilter:
    """Parse one filter; raise FilterError with the reason when it is refused."""
    if not isinstance(text, str) or not text.strip():
        raise FilterError("a filter must be a non-empty SQL expression")
    return _parse_filter(text, dialect)


@functools.lru_cache(maxsize=1024)
def _parse_filter(text: str, dialect: str) -> ParsedFilter:
    # cached: the same metric filters are parsed for every query that uses them (the result is never modified)
    refs: t.Dict[str, str] = {}

    def substitute(m: re.Match[str]) -> str:
        key = _PLACEHOLDER.format(len(refs))
        refs[key] = template_name(m.group(1))
        return key

    sql = _TEMPLATE_RE.sub(substitute, text)
    if "{{" in sql or "{%" in sql or "}}" in sql:
        raise FilterError(f"filter '{text}': unbalanced or unsupported template")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as e:
        raise FilterError(f"filter '{text}' is not valid SQL: {str(e).splitlines()[0]}") from None
    if len(statements) != 1:
        raise FilterError(f"filter '{text}' must be a single expression, not {len(statements)} statements")
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN):
            what = "a subquery" if isinstance(node, (exp.Query, exp.Subquery)) else type(node).__name__.upper()
            if isinstance(node, exp.AggFunc):
                what = "an aggregate function"
            elif isinstance(node, exp.Window):
                what = "a window function"
            elif isinstance(node, exp.Table):
                what = "a table reference"
            elif isinstance(node, (exp.DDL, exp.DML, exp.Command)):
                what = "a statement"
            raise FilterError(
                f"filter '{text}' is refused: it contains {what}; a filter is one boolean expression over dimension names"
            )
        if isinstance(node, exp.Column) and (node.table or node.args.get("db")):
            raise FilterError(
                f"filter '{text}': write dimension names ('{node.name}'), not qualified columns ('{to_sql(node)}')"
            )
        if isinstance(node, exp.Func):
            fname = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if (
                fname.startswith(("read_", "scan_", "st_read", "sqlite_", "postgres_", "mysql_"))
                or fname in _OUTSIDE_FUNCS
            ):
                raise FilterError(f"filter '{text}' is refused: function {fname} reads outside the semantic models")
    root = tree.unnest() if isinstance(tree, exp.Paren) else tree
    if not isinstance(root, _BOOLEAN_ROOTS) or isinstance(root, _NOT_BOOLEAN_FUNCS):
        raise FilterError(f"filter '{text}' is not a boolean expression")
    if isinstance(root, exp.Column) and root.name.startswith("__sl_ref_") is False and root.name.upper() in ("NULL",):
        raise FilterError(f"filter '{text}' is not a boolean expression")
    names: t.List[str] = []

    def rename(node: Expr) -> Expr:
        if isinstance(node, exp.Column):
            name = refs.get(node.name, node.name)
            if name not in names:
                names.append(name)
            return exp.column(name)
        return node

    tree = tree.transform(rename, copy=False)
    return ParsedFilter(text, tree, tuple(names))
