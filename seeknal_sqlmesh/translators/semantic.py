"""`semantic_model` and `metric` nodes: copied verbatim into `seeknal/semantic/` of the output project, where
`seeknal query` (the semantic layer) reads them. `model: ref('kind.name')` keeps pointing at the Seeknal name,
which is also the SQLMesh model name."""

from __future__ import annotations

from seeknal_sqlmesh.project.models import SemanticNode
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.output import dump_yaml

SEMANTIC_DIR = "seeknal/semantic"


def translate(node: SemanticNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    folder = "semantic_models" if node.kind == "semantic_model" else "metrics"
    out.files[f"{SEMANTIC_DIR}/{folder}/{node.name}.yml"] = dump_yaml(
        node.raw, f"Seeknal {node.kind} '{node.name}', copied by `seeknal translate`."
    )
    out.metadata = {"semantic_file": f"{SEMANTIC_DIR}/{folder}/{node.name}.yml"}
    return out
