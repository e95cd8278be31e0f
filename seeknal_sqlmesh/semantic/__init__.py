"""A MetricFlow-style semantic layer for Seeknal projects on SQLMesh, behind `seeknal query`.

Layers, each usable alone:
  specs     (both YAML flavours -> internal model `ir`)
  resolve   (validation, entity join graph, metric graph, name lookup with suggestions)
  query     (a request resolved against the manifest)
  planner   (resolved query -> plan: every name looked up, every filter parsed)
  plan      (dialect-independent frozen nodes carrying what was resolved)
  render    (plan -> sqlglot AST -> SQL in any dialect; per-engine pieces from `dialects`)
  connection / layer (where it runs; `SemanticLayer`)
"""

from __future__ import annotations

import importlib
import typing as t

from seeknal_sqlmesh.semantic.errors import QueryError, SemanticDefinitionError

_LAZY = {"Explanation": "seeknal_sqlmesh.semantic.layer", "SemanticLayer": "seeknal_sqlmesh.semantic.layer"}

__all__ = ["QueryError", "SemanticDefinitionError", *_LAZY]


def __getattr__(name: str) -> t.Any:
    """`SemanticLayer` is loaded on first use, so the CLI starts without parsing the layer's modules."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'seeknal_sqlmesh.semantic' has no attribute '{name}'")
