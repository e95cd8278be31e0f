"""SQL handling shared by the translators, all on the sqlglot AST (never by editing SQL text).

- `parse_statements`: parse Seeknal SQL (DuckDB dialect unless the node says otherwise);
- `rewrite_upstreams`: the four Seeknal spellings of an upstream node -> SQLMesh model names;
- `fold_statements`: a multi-statement transform -> one query (temp views/tables become CTEs) + pre-statements;
- `replace_runtime_tokens`: templating sentinels -> SQLMesh macros (`@seeknal_date(...)`, `@seeknal_env(...)`).
"""

from __future__ import annotations

import re
import typing as t

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlmesh.core import dialect as sqlmesh_dialect

from seeknal_sqlmesh.project.templating import SENTINEL, TemplateScope
from seeknal_sqlmesh.sqlkit import string


class SQLTranslationError(ValueError):
    """A problem in a node's SQL; the message is meant for the user."""


E = t.TypeVar("E", bound=exp.Expr)


def transform_tree(tree: E, fun: t.Callable[[exp.Expr], exp.Expr], *, copy: bool = True) -> E:
    """`tree.transform(fun)` for functions that replace inner nodes (tables, literals): the root keeps its type."""
    out = tree.transform(fun, copy=copy)
    if not isinstance(out, type(tree)):
        raise TypeError(f"a {type(tree).__name__} became a {type(out).__name__}")
    return out


def parse_statements(sql: str, dialect: str) -> t.List[exp.Expr]:
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        where = f" at line {first.get('line')}, column {first.get('col')}" if first.get("line") else ""
        raise SQLTranslationError(f"SQL does not parse ({dialect}){where}: {first.get('description', e)}") from None
    if not statements:
        raise SQLTranslationError("SQL is empty")
    return statements


def macro_call(name: str, *args: t.Union[str, int]) -> exp.Expr:
    """`@name('a', 1)`: a call to one of the seeknal SQLMesh macros (seeknal_sqlmesh/macros)."""
    values = [exp.Literal.number(a) if isinstance(a, int) else string(a) for a in args]
    return sqlmesh_dialect.MacroFunc(this=exp.Anonymous(this=name, expressions=values))


def model_table(node_id: str) -> exp.Table:
    """The SQLMesh model that stands for Seeknal node `<kind>.<name>` (schema = kind)."""
    kind, name = node_id.split(".", 1)
    return exp.table_(name, db=kind)


_INPUT = re.compile(r"^input_(\d+)$", re.IGNORECASE)


def _ref_target(table: exp.Table) -> t.Optional[str]:
    """`ref('k.n')` parses as a table-valued function; return 'k.n' or None."""
    fn = table.this
    if isinstance(fn, exp.Anonymous) and str(fn.name).lower() == "ref" and len(fn.expressions) == 1:
        arg = fn.expressions[0]
        if isinstance(arg, exp.Literal) and arg.is_string:
            return arg.name
    return None


def rewrite_upstreams(
    statement: exp.Expr,
    inputs: t.Sequence[str],
    known_nodes: t.Collection[str],
    *,
    local_names: t.Collection[str] = (),
    aliases: t.Optional[t.Dict[str, str]] = None,
    table_of: t.Optional[t.Callable[[str], exp.Table]] = None,
) -> t.Tuple[exp.Expr, t.List[str]]:
    """Point every upstream spelling at its SQLMesh model; return the new AST and the node ids it reads.

    `aliases` maps extra bare names to node ids (e.g. `source` inside a feature group's transform).
    Unknown `<kind>.<name>` tables raise: Seeknal would fail at run time too.
    """
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}
    local = {n.lower() for n in local_names}
    used: t.List[str] = []
    errors: t.List[str] = []

    def target_of(table: exp.Table) -> t.Optional[str]:
        ref = _ref_target(table)
        if ref is not None:
            if ref not in inputs:
                errors.append(f"ref('{ref}') is not listed in inputs")
                return None
            return ref
        if not isinstance(table.this, exp.Identifier) or table.args.get("catalog"):
            return None
        name, db = table.name, table.db
        if db:
            node_id = f"{db}.{name}"
            if node_id in known_nodes:
                return node_id
            if db in _KIND_SCHEMAS:
                errors.append(f"'{node_id}' is not a node of this project")
            return None
        lowered = name.lower()
        if lowered in local:
            return None
        m = _INPUT.match(name)
        if m:
            index = int(m.group(1))
            if index >= len(inputs):
                errors.append(f"{name} refers to input #{index}, but the node has {len(inputs)} input(s)")
                return None
            return inputs[index]
        if lowered == "__this__":
            if not inputs:
                errors.append("__THIS__ is used but the node has no inputs")
                return None
            return inputs[0]
        return aliases.get(lowered)

    def transform(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Table):
            return node
        target = target_of(node)
        if target is None:
            return node
        used.append(target)
        replacement = (table_of or model_table)(target)
        alias = node.args.get("alias")
        if alias is None and _ref_target(node) is None:
            # keep `input_0.col` / `__THIS__.col` / `source.col` column qualifiers valid
            replacement.set("alias", exp.TableAlias(this=exp.to_identifier(node.name)))
        elif alias is not None:
            replacement.set("alias", alias.copy())
        return replacement

    rewritten = statement.transform(transform, copy=False)  # callers pass freshly parsed statements
    if errors:
        raise SQLTranslationError("; ".join(dict.fromkeys(errors)))
    return rewritten, list(dict.fromkeys(used))


_KIND_SCHEMAS = {
    "source",
    "transform",
    "feature_group",
    "aggregation",
    "second_order_aggregation",
    "profile",
    "rule",
    "exposure",
    "model",
}


_TEMP_OBJECTS = ("VIEW", "TABLE")


def fold_statements(statements: t.List[exp.Expr]) -> t.Tuple[exp.Query, t.List[exp.Expr]]:
    """Seeknal runs every statement and keeps the last SELECT. SQLMesh wants one query, so
    `CREATE [TEMP] VIEW|TABLE x AS SELECT ...` before it become CTEs of that query (same rows, and SQLMesh
    keeps lineage), and session statements (SET, PRAGMA, LOAD, ...) become pre-statements."""
    queries = [(i, s) for i, s in enumerate(statements) if isinstance(s, exp.Query)]
    if not queries:
        raise SQLTranslationError("no SELECT statement: the last SELECT of a transform is its output")
    last, query = queries[-1]
    ctes: t.List[exp.CTE] = []
    pre: t.List[exp.Expr] = []
    for i, statement in enumerate(statements):
        if i == last:
            continue
        if i > last:
            raise SQLTranslationError("statements after the last SELECT would not change the node's output")
        if (
            isinstance(statement, exp.Create)
            and statement.kind in _TEMP_OBJECTS
            and isinstance(statement.expression, exp.Query)
        ):
            name = statement.this.this if isinstance(statement.this, exp.Schema) else statement.this
            ctes.append(exp.CTE(this=statement.expression, alias=exp.TableAlias(this=exp.to_identifier(name.name))))
        elif isinstance(statement, exp.Query):
            continue  # an earlier bare SELECT has no effect on the output
        elif isinstance(statement, (exp.Set, exp.Pragma, exp.Command, exp.Use)) or type(statement).__name__ in (
            "Install",
            "Load",
        ):
            pre.append(statement)
        else:
            raise SQLTranslationError(
                f"statement {i + 1} ({statement.key.upper()}) cannot be kept: only CREATE TEMP VIEW/TABLE ... AS SELECT, "
                "SET/PRAGMA/LOAD and a final SELECT are supported"
            )
    if ctes:
        existing = list(query.args.get("with_", exp.With()).expressions) if query.args.get("with_") else []
        with_ = exp.With(expressions=[*ctes, *existing])
        query.set("with_", with_)
    return query, pre


def temp_object_names(statements: t.List[exp.Expr]) -> t.List[str]:
    names = []
    for s in statements:
        if isinstance(s, exp.Create) and s.kind in _TEMP_OBJECTS:
            target = s.this.this if isinstance(s.this, exp.Schema) else s.this
            names.append(target.name)
    for s in statements:
        for cte in s.find_all(exp.CTE):
            names.append(cte.alias)
    return names


def replace_runtime_tokens(expression: E, scope: TemplateScope) -> E:
    """Swap `__seeknal_rt_N__` sentinels (from `{{ today }}` etc.) for SQLMesh macro calls."""
    if not scope.runtime:
        return expression
    macros = [macro_call(value.macro, *value.args) for value in scope.runtime]

    def transform(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Literal) and node.is_string and SENTINEL.search(node.this):
            parts: t.List[exp.Expr] = []
            pos = 0
            for m in SENTINEL.finditer(node.this):
                if m.start() > pos:
                    parts.append(exp.Literal.string(node.this[pos : m.start()]))
                parts.append(macros[int(m.group(1))].copy())
                pos = m.end()
            if pos < len(node.this):
                parts.append(exp.Literal.string(node.this[pos:]))
            result = parts[0]
            for part in parts[1:]:
                result = exp.DPipe(this=result, expression=part, safe=True)
            return result
        token = SENTINEL.fullmatch(node.name or "") if isinstance(node, (exp.Column, exp.Identifier)) else None
        if token:
            return macros[int(token.group(1))].copy()
        return node

    return transform_tree(expression, transform, copy=False)
