"""`semantic_model` and `metric` nodes: copied verbatim into `seeknal/semantic/` of the output project, where
`seeknal query` (the semantic layer) reads them. `model: ref('kind.name')` keeps pointing at the Seeknal name,
which is also the SQLMesh model name."""

from __future__ import annotations

from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.project.models import SemanticNode
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.output import dump_yaml


def translate(node: SemanticNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    folder = "semantic_models" if node.kind == "semantic_model" else "metrics"
    path = f"{Layout.SEMANTIC_DIR}/{folder}/{node.name}.yml"
    out.files[path] = dump_yaml(node.raw, f"Seeknal {node.kind} '{node.name}', copied by `seeknal translate`.")
    out.metadata = {"semantic_file": path}
    return out
