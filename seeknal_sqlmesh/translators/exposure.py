"""`exposure` nodes. File exposures (csv, parquet, json, jsonl) keep exporting after every plan/run through a
SQLMesh `after_all` statement. Plugins take the types they serve (the StarRocks plugin turns
`starrocks_materialized_view` into a model); the other types (api, database, notification, report) have no SQLMesh
equivalent and are kept as metadata with a warning."""

from __future__ import annotations

from seeknal_sqlmesh.project.models import ExposureNode
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext

FILE_FORMATS = ("csv", "parquet", "json", "jsonl")


def exposure_translation(node: ExposureNode) -> NodeTranslation:
    """What every exposure records in the manifest; plugins that take an exposure type start from this."""
    upstream = node.upstream
    return NodeTranslation(
        metadata={"type": node.type, "params": node.params, "upstream_model": upstream[0] if upstream else None}
    )


def translate(node: ExposureNode, ctx: TranslationContext) -> NodeTranslation:
    out = exposure_translation(node)
    upstream = node.upstream
    if node.type == "file":
        path = node.params.get("path") or node.url
        fmt = str(node.params.get("format", "")).lower() or (str(path).rsplit(".", 1)[-1].lower() if path else "")
        if not upstream:
            ctx.error(node, "depends_on", "a file exposure needs the node it exports in depends_on or inputs")
        elif not path:
            ctx.error(node, "params.path", "a file exposure needs params.path")
        elif fmt not in FILE_FORMATS:
            ctx.error(
                node, "params.format", f"unsupported format '{fmt}'", f"expected one of {', '.join(FILE_FORMATS)}"
            )
        elif upstream[0] in ctx.table_names:
            ctx.error(node, "depends_on", f"'{upstream[0]}' is an external table; SQLMesh does not build it here")
        else:
            out.exports.append(
                {"node": node.id, "model": upstream[0], "path": ctx.project_path(str(path)), "format": fmt}
            )
        return out
    ctx.warn(
        node,
        "type",
        f"exposure type '{node.type}' has no SQLMesh equivalent: kept as metadata in seeknal/manifest.json",
    )
    return out
