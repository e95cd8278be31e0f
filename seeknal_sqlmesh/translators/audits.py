"""Seeknal checks -> SQLMesh audits: inline `audits:` on any node, and `rule` nodes (translators/rule.py).

Built-in SQLMesh audits are used where one has the same meaning; otherwise a custom SQL audit whose rows are
the violations. Seeknal `severity: warn` -> non-blocking (the plan goes on and prints a warning).
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlmesh.core import dialect as sqlmesh_dialect

from seeknal_sqlmesh.project.models import Node
from seeknal_sqlmesh.sqlkit import col
from seeknal_sqlmesh.translators.base import AuditSpec, ModelSpec, TranslationContext
from seeknal_sqlmesh.translators.sql import SQLTranslationError, parse_statements, transform_tree

THIS_MODEL = "__seeknal_this_model__"  # placeholder table, rendered as @this_model

BuiltIn = t.Tuple[str, t.Dict[str, exp.Expr]]


def _columns(cols: t.Sequence[str]) -> exp.Tuple:
    """Names quoted only where they must be (not a plain lower-case identifier)."""
    return exp.Tuple(expressions=[col(c, quoted=not c.isidentifier() or c.lower() != c) for c in cols])


def builtin(name: str, blocking: bool, **args: exp.Expr) -> BuiltIn:
    return (name if blocking else f"{name}_non_blocking", args)


def this_model() -> exp.Table:
    return exp.to_table(THIS_MODEL)


def violations(where: exp.Expr) -> exp.Select:
    return exp.select("*").from_(this_model()).where(where)


def inline_audits(node: Node, ctx: TranslationContext, audit_prefix: str) -> t.List[t.Union[BuiltIn, AuditSpec]]:
    """`audits: [{type: not_null|unique|accepted_values|row_count|custom_sql, ..., severity}]`."""
    out: t.List[t.Union[BuiltIn, AuditSpec]] = []
    for i, audit in enumerate(node.audits):
        kind = str(audit.get("type", "")).lower()
        blocking = str(audit.get("severity", "error")).lower() != "warn"
        columns = audit.get("columns") or ([audit["column"]] if audit.get("column") else [])
        if isinstance(columns, str):
            columns = [columns]
        field_name = f"audits[{i}]"
        if kind == "not_null" and columns:
            out.append(builtin("not_null", blocking, columns=_columns(columns)))
        elif kind == "unique" and columns:
            out.append(builtin("unique_combination_of_columns", blocking, columns=_columns(columns)))
        elif kind == "accepted_values" and columns and audit.get("values"):
            values = exp.Array(expressions=[exp.convert(v) for v in audit["values"]])
            out.append(builtin("accepted_values", blocking, column=exp.column(columns[0]), is_in=values))
        elif kind == "row_count":
            out.append(row_count_audit(f"{audit_prefix}_row_count_{i}", audit.get("min"), audit.get("max"), blocking))
        elif kind == "custom_sql" and audit.get("sql"):
            try:
                query = custom_sql_audit(audit["sql"], ctx.dialect_of(node))
            except SQLTranslationError as e:
                ctx.error(node, f"{field_name}.sql", str(e))
                continue
            out.append(AuditSpec(f"{audit_prefix}_custom_sql_{i}", query, blocking, audit.get("description", "")))
        else:
            ctx.error(
                node,
                field_name,
                f"unsupported audit {audit!r}",
                "expected type not_null/unique (columns), accepted_values (columns, values), row_count (min, max) or custom_sql (sql)",
            )
    return out


def row_count_audit(name: str, minimum: t.Any, maximum: t.Any, blocking: bool) -> AuditSpec:
    count = exp.Count(this=exp.Star())
    conditions: t.List[exp.Expr] = []
    if minimum is not None:
        conditions.append(exp.LT(this=count.copy(), expression=exp.convert(int(minimum))))
    if maximum is not None:
        conditions.append(exp.GT(this=count.copy(), expression=exp.convert(int(maximum))))
    having = exp.or_(*conditions) if conditions else exp.false()
    query = exp.select(exp.alias_(count, "row_count")).from_(this_model()).having(having)
    bounds = [f"at least {minimum}" if minimum is not None else "", f"at most {maximum}" if maximum is not None else ""]
    return AuditSpec(name, query, blocking, "row count " + " and ".join(b for b in bounds if b))


def custom_sql_audit(sql: str, dialect: str) -> exp.Query:
    """Seeknal's `custom_sql` returns violating rows, with `__THIS__` for the checked table: SQLMesh's audit contract."""
    statements = parse_statements(sql, dialect)
    query = statements[0]
    if len(statements) != 1 or not isinstance(query, exp.Query):
        raise SQLTranslationError("an audit must be a single SELECT returning the violating rows")

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name.lower() in ("__this__", "input_data") and not node.db:
            table = this_model()
            table.set("alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name)))
            return table
        return node

    return transform_tree(query, swap)


def render_this_model(query: exp.Query) -> exp.Query:
    """Swap the placeholder table for SQLMesh's `@this_model` macro variable."""

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name == THIS_MODEL:
            node = node.copy()
            node.set("this", sqlmesh_dialect.MacroVar(this="this_model"))
        return node

    return transform_tree(query, swap)


def attach_inline_audits(spec: ModelSpec, node: Node, ctx: TranslationContext) -> None:
    for audit in inline_audits(node, ctx, f"{node.kind}__{node.name}"):
        if isinstance(audit, AuditSpec):
            spec.custom_audits.append(audit)
        else:
            spec.audits.append(audit)
