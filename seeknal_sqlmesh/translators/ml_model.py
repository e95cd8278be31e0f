"""`model` nodes (ML training) are not translated: SQLMesh builds tables, not estimators."""

from __future__ import annotations

from seeknal_sqlmesh.project.models import MLModelNode
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext


def translate(node: MLModelNode, ctx: TranslationContext) -> NodeTranslation:
    ctx.warn(
        node,
        "kind",
        "ML model training is not translated (SQLMesh builds tables, not models)",
        "train from the translated feature tables, e.g. with `seeknal features historical`",
    )
    return NodeTranslation(metadata={"translated": False, "training": node.training})
