"""`transform` nodes -> SQL models. Also home of `translate_sql`, which feature groups reuse."""

from __future__ import annotations

import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import Node, TransformNode
from seeknal_sqlmesh.project.templating import TemplateError, resolve
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.kinds import sql_model
from seeknal_sqlmesh.translators.sql import (
    SQLTranslationError,
    fold_statements,
    parse_statements,
    replace_runtime_tokens,
    rewrite_upstreams,
    temp_object_names,
)


def translate_sql(
    node: Node, sql: str, ctx: TranslationContext, field_name: str, aliases: t.Optional[t.Dict[str, str]] = None
) -> t.Optional[t.Tuple[exp.Query, t.List[exp.Expr]]]:
    """Seeknal SQL text -> (one SQLMesh query, pre-statements); problems are reported on `field_name`."""
    scope = ctx.scope(node)
    try:
        text = resolve(sql, scope)
        statements = parse_statements(text, ctx.dialect_of(node))
        local = temp_object_names(statements)
        rewritten = []
        for statement in statements:
            new, _ = rewrite_upstreams(
                statement, node.inputs, ctx.project.nodes, local_names=local, aliases=aliases, table_of=ctx.table_of
            )
            rewritten.append(new)
        query, pre = fold_statements(rewritten)
        query = replace_runtime_tokens(query, scope)
        pre = [replace_runtime_tokens(s, scope) for s in pre]
    except (TemplateError, SQLTranslationError) as e:
        ctx.error(node, field_name, str(e))
        return None
    return query, pre


def translate(node: TransformNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    result = translate_sql(node, node.transform, ctx, "transform")
    if result is None:
        return out
    query, pre = result
    out.models.append(sql_model(node, ctx, query, pre_statements=pre))
    return out
