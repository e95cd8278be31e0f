"""A lineage graph as one self-contained HTML page: inline SVG, inline style and script, nothing from the network.

Data flows left to right: columns are laid out in layers by their longest path from the first column, each node a
box coloured by its kind, each edge a curve; hovering a node highlights its edges. The graph's JSON is embedded too.
"""

from __future__ import annotations

import html
import json
import typing as t

if t.TYPE_CHECKING:
    from seeknal_sqlmesh.workflow.lineage import LineageGraph

COLORS = {
    "source": "#dbeafe",
    "external": "#e0e7ff",
    "transform": "#dcfce7",
    "feature_group": "#ffedd5",
    "feature_store": "#fef3c7",
    "exposure": "#fce7f3",
    "semantic_model": "#ede9fe",
    "metric": "#f5d0fe",
}
_CHAR, _HEIGHT, _ROW, _GAP, _PAD = 7.2, 26, 36, 70, 20


def layers(graph: LineageGraph) -> t.Dict[str, int]:
    """Node -> layer: 0 for nodes nothing flows into, else one more than the deepest node flowing into it."""
    into: t.Dict[str, t.List[str]] = {n: [] for n in graph.nodes}
    for source, target in graph.edges:
        into.setdefault(target, []).append(source)
    depth: t.Dict[str, int] = {}

    def visit(node: str, trail: t.FrozenSet[str]) -> int:
        if node not in depth:
            feeds = [s for s in into.get(node, []) if s not in trail]
            depth[node] = 1 + max((visit(s, trail | {node}) for s in feeds), default=-1)
        return depth[node]

    for node in sorted(into):
        visit(node, frozenset())
    return depth


def render_html(graph: LineageGraph, title: str) -> str:
    depth = layers(graph)
    columns: t.Dict[int, t.List[str]] = {}
    for node in sorted(depth, key=lambda n: (depth[n], n)):
        columns.setdefault(depth[node], []).append(node)
    position: t.Dict[str, float] = {}
    for layer in sorted(columns):  # each node near the nodes flowing into it: fewer crossing edges
        feeds = {n: [position[s] for s, d in graph.edges if d == n and s in position] for n in columns[layer]}
        columns[layer].sort(key=lambda n: (sum(feeds[n]) / len(feeds[n]) if feeds[n] else 0.0, n))
        position.update((n, float(i)) for i, n in enumerate(columns[layer]))
    boxes: t.Dict[str, t.Tuple[float, float, float]] = {}  # node -> x, y, width
    x = float(_PAD)
    for layer in sorted(columns):
        width = max(len(_label(graph, n)) for n in columns[layer]) * _CHAR + 20
        for row, node in enumerate(columns[layer]):
            boxes[node] = (x, _PAD + 30 + row * _ROW, width)
        x += width + _GAP
    total_w = max(x - _GAP + _PAD, 320)
    total_h = _PAD * 2 + 30 + max((len(c) for c in columns.values()), default=1) * _ROW

    parts = []
    for i, (source, target) in enumerate(graph.edges):
        if source not in boxes or target not in boxes:
            continue
        sx, sy, sw = boxes[source]
        tx, ty, _ = boxes[target]
        x1, y1, x2, y2 = sx + sw, sy + _HEIGHT / 2, tx, ty + _HEIGHT / 2
        mid = (x1 + x2) / 2
        parts.append(
            f'<path id="e{i}" class="edge" data-from="{_attr(source)}" data-to="{_attr(target)}" '
            f'd="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"/>'
        )
    for node, (bx, by, bw) in boxes.items():
        info = graph.nodes.get(node, {})
        kind = str(info.get("kind") or info.get("type") or "")
        fill = COLORS.get(kind, "#f3f4f6")
        root = " root" if node == graph.root else ""
        tip = "\n".join(f"{k}: {v}" for k, v in info.items() if v)
        parts.append(
            f'<g class="node{root}" data-id="{_attr(node)}"><title>{html.escape(node)}\n{html.escape(tip)}</title>'
            f'<rect x="{bx:.1f}" y="{by:.1f}" width="{bw:.1f}" height="{_HEIGHT}" rx="5" fill="{fill}"/>'
            f'<text x="{bx + 10:.1f}" y="{by + 17:.1f}">{html.escape(_label(graph, node))}</text></g>'
        )
    legend = "".join(
        f'<span class="key"><i style="background:{color}"></i>{html.escape(kind)}</span>'
        for kind, color in COLORS.items()
    )
    data = json.dumps(graph.to_dict(), indent=1).replace("</", "<\\/")
    direction = "upstream lineage" if graph.direction == "upstream" else "impact (downstream)"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 13px system-ui, sans-serif; margin: 16px; color: #111827; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }} p {{ margin: 0 0 10px; color: #4b5563; }}
svg {{ border: 1px solid #e5e7eb; border-radius: 6px; background: #fff; }}
.edge {{ fill: none; stroke: #9ca3af; stroke-width: 1.4; }}
.edge.on {{ stroke: #dc2626; stroke-width: 2.4; }}
.node rect {{ stroke: #6b7280; stroke-width: 1; }} .node.root rect {{ stroke: #111827; stroke-width: 2.5; }}
.node text {{ font: 12px ui-monospace, monospace; }} .node:hover rect {{ stroke: #dc2626; }}
.key {{ margin-right: 12px; white-space: nowrap; }}
.key i {{ display: inline-block; width: 12px; height: 12px; margin-right: 4px; border: 1px solid #6b7280; vertical-align: -2px; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(direction)} of <b>{html.escape(graph.root)}</b>: {len(graph.nodes)} nodes, {len(graph.edges)} edges. Data flows left to right.</p>
<p>{legend}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{total_w:.0f}" height="{total_h:.0f}" viewBox="0 0 {total_w:.0f} {total_h:.0f}">
{chr(10).join(parts)}
</svg>
<script type="application/json" id="lineage-data">{data}</script>
<script>
document.querySelectorAll(".node").forEach(function (node) {{
  var id = node.getAttribute("data-id");
  function mark(on) {{
    document.querySelectorAll(".edge").forEach(function (e) {{
      if (e.getAttribute("data-from") === id || e.getAttribute("data-to") === id) e.classList.toggle("on", on);
    }});
  }}
  node.addEventListener("mouseenter", function () {{ mark(true); }});
  node.addEventListener("mouseleave", function () {{ mark(false); }});
}});
</script>
</body></html>
"""


def _label(graph: LineageGraph, node: str) -> str:
    note = graph.nodes.get(node, {}).get("note")
    return f"{node} ({note})" if note else node


def _attr(value: str) -> str:
    return html.escape(value, quote=True)
