"""`rule` nodes -> SQLMesh audits on the rule's first input (the table Seeknal checks as `input_data`).

Each check keeps Seeknal's meaning; `params.severity: warn` makes every audit of the rule non-blocking.
| Seeknal check | SQLMesh audit |
|---|---|
| null (max_null_percentage 0) | built-in `not_null` |
| null (max_null_percentage > 0) | custom: fails when NULL cells / (rows x columns) exceeds the maximum (a fraction, 0-1) |
| range | custom: rows with `col < min_val OR col > max_val` |
| uniqueness | built-in `unique_combination_of_columns` |
| freshness | custom: rows whose (non-NULL) value is older than now - `max_age` |
| profile_check | custom audits on the profile model, `fail` blocking and `warn` non-blocking |
| sql_assertion | custom: the assertion SQL itself (returned rows = violations) |
"""

from __future__ import annotations

import functools
import re
import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import RuleCheck, RuleNode
from seeknal_sqlmesh.sqlkit import col, string
from seeknal_sqlmesh.translators.audits import AuditSpec, builtin, this_model, violations
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.sql import SQLTranslationError, parse_statements, transform_tree

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_AGE_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CONDITION = re.compile(r"^\s*(>=|<=|!=|<>|=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_BETWEEN = re.compile(r"^\s*between\s+(-?\d+(?:\.\d+)?)\s+and\s+(-?\d+(?:\.\d+)?)\s*$", re.IGNORECASE)
_OPS = {">": exp.GT, "<": exp.LT, ">=": exp.GTE, "<=": exp.LTE, "=": exp.EQ, "==": exp.EQ, "!=": exp.NEQ, "<>": exp.NEQ}


def _bare_col(name: str) -> exp.Column:
    # bare names: SQLMesh normalizes them like the audited model's own columns (and the audits stay as translated)
    return col(name, quoted=False)


def condition(text: str, value: exp.Expr) -> t.Optional[exp.Expr]:
    """'> 50', '= 0', 'between 1 and 5' applied to `value`."""
    m = _CONDITION.match(str(text))
    if m:
        return _OPS[m.group(1)](this=value, expression=exp.Literal.number(m.group(2)))
    m = _BETWEEN.match(str(text))
    if m:
        return exp.Between(this=value, low=exp.Literal.number(m.group(1)), high=exp.Literal.number(m.group(2)))
    return None


def _check(check: RuleCheck, index: int, node: RuleNode, ctx: TranslationContext, blocking: bool) -> t.List[t.Any]:
    name = f"rule__{node.name}__{check.type}_{index}"
    field_name = f"rule[{index}]" if len(node.rule) > 1 else "rule"
    columns = check.columns or ([check.column] if check.column else [])
    message = node.params.get("error_message", "") or node.description
    kind = check.type.lower()
    if kind == "null":
        if not columns:
            ctx.error(node, f"{field_name}.columns", "a null check needs columns")
            return []
        max_pct = float(check.params.get("max_null_percentage", 0) or 0)
        if max_pct == 0:
            return [builtin("not_null", blocking, columns=exp.Tuple(expressions=[_bare_col(c) for c in columns]))]
        # Seeknal: NULL cells over all checked cells, as a fraction between 0 and 1
        per_column: t.List[exp.Expr] = [
            exp.Sum(
                this=exp.If(
                    this=exp.Is(this=_bare_col(c), expression=exp.null()),
                    true=exp.Literal.number(1),
                    false=exp.Literal.number(0),
                )
            )
            for c in columns
        ]
        null_cells = functools.reduce(lambda a, b: exp.Add(this=a, expression=b), per_column)
        cells = exp.Mul(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(len(columns)))
        share = exp.Div(this=exp.cast(null_cells, "DOUBLE"), expression=cells)
        query = (
            exp.select(exp.alias_(share.copy(), "null_fraction"))
            .from_(this_model())
            .having(exp.GT(this=share, expression=exp.Literal.number(max_pct)))
        )
        return [AuditSpec(name, query, blocking, message)]
    if kind == "range":
        if not columns:
            ctx.error(node, f"{field_name}.column", "a range check needs a column")
            return []
        checked = _bare_col(columns[0])
        bounds: t.List[exp.Expr] = []
        if check.params.get("min_val") is not None:
            bounds.append(exp.LT(this=checked.copy(), expression=exp.Literal.number(check.params["min_val"])))
        if check.params.get("max_val") is not None:
            bounds.append(exp.GT(this=checked.copy(), expression=exp.Literal.number(check.params["max_val"])))
        if not bounds:
            ctx.error(node, f"{field_name}.params", "a range check needs params.min_val and/or params.max_val")
            return []
        return [AuditSpec(name, violations(exp.or_(*bounds)), blocking, message)]
    if kind == "uniqueness":
        if not columns:
            ctx.error(node, f"{field_name}.columns", "a uniqueness check needs columns")
            return []
        return [
            builtin(
                "unique_combination_of_columns",
                blocking,
                columns=exp.Tuple(expressions=[_bare_col(c) for c in columns]),
            )
        ]
    if kind == "freshness":
        m = _AGE.match(str(check.params.get("max_age", "")))
        if not columns or not m:
            ctx.error(
                node, f"{field_name}.params.max_age", "a freshness check needs a column and params.max_age like '24h'"
            )
            return []
        seconds = int(float(m.group(1)) * _AGE_SECONDS[m.group(2)])
        cutoff = exp.Sub(
            this=exp.cast(exp.CurrentTimestamp(), "TIMESTAMP"),
            expression=exp.Interval(this=exp.Literal.string(str(seconds)), unit=exp.var("SECOND")),
        )
        stale = exp.LT(this=exp.cast(_bare_col(columns[0]), "TIMESTAMP"), expression=cutoff)
        return [AuditSpec(name, violations(stale), blocking, message)]
    if kind == "profile_check":
        audits = []
        for j, item in enumerate(check.checks):
            column, metric = item.get("column", "_table_"), item.get("metric")
            for level in ("fail", "warn"):
                if not item.get(level):
                    continue
                value = exp.TryCast(this=_bare_col("value"), to=exp.DataType.build("DOUBLE"))
                cond = condition(item[level], value)
                if cond is None or not metric:
                    ctx.error(
                        node,
                        f"{field_name}.checks[{j}].{level}",
                        f"cannot read condition {item[level]!r}",
                        "write e.g. '> 50', '= 0' or 'between 1 and 5'",
                    )
                    continue
                where = exp.and_(
                    exp.EQ(this=_bare_col("column_name"), expression=string(column)),
                    exp.EQ(this=_bare_col("metric"), expression=string(metric)),
                    cond,
                )
                audits.append(
                    AuditSpec(
                        f"{name}_{j}_{level}",
                        violations(where),
                        blocking and level == "fail",
                        f"{column}.{metric} {level} when {item[level]}",
                    )
                )
        return audits
    if kind == "sql_assertion":
        if not check.sql:
            ctx.error(node, f"{field_name}.sql", "an sql_assertion needs sql")
            return []
        try:
            statements = parse_statements(check.sql, ctx.dialect_of(node))
            assertion = statements[0]
            if len(statements) != 1 or not isinstance(assertion, exp.Query):
                raise SQLTranslationError("an sql_assertion must be one SELECT returning the violating rows")
        except SQLTranslationError as e:
            ctx.error(node, f"{field_name}.sql", str(e))
            return []
        assertion = transform_tree(assertion, lambda n: _assertion_table(n, node, ctx))
        return [AuditSpec(name, assertion, blocking, message)]
    ctx.error(
        node,
        f"{field_name}.type",
        f"rule type '{check.type}' cannot be translated (Seeknal rejects it at run time too)",
        "use null, range, uniqueness, freshness, profile_check or sql_assertion",
    )
    return []


def _assertion_table(node: exp.Expr, rule: RuleNode, ctx: TranslationContext) -> exp.Expr:
    """`input_data` -> the audited model; `<kind>_<name>` views Seeknal registers -> their models."""
    if not isinstance(node, exp.Table) or node.db or not isinstance(node.this, exp.Identifier):
        return node
    name = node.name
    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(name))
    if name.lower() == "input_data":
        table = this_model()
    else:
        match = next((i for i in rule.inputs if i.replace(".", "_", 1) == name), None)
        if match is None:
            return node
        table = ctx.table_of(match)
    table.set("alias", alias)
    return table


def translate(node: RuleNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    if not node.inputs:
        ctx.error(node, "inputs", "a rule needs the node it checks in inputs")
        return out
    target = node.inputs[0]
    blocking = node.severity != "warn"
    for i, check in enumerate(node.rule):
        for audit in _check(check, i, node, ctx, blocking):
            out.audits_for.append((target, audit))
    out.metadata = {"checks": target, "severity": node.severity}
    return out
