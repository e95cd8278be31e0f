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

from seeknal_sqlmesh.semantic.errors import QueryError, SemanticDefinitionError
from seeknal_sqlmesh.semantic.layer import Explanation, SemanticLayer

__all__ = ["Explanation", "QueryError", "SemanticDefinitionError", "SemanticLayer"]
