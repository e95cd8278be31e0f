"""Column-level changes of a plan: for each modified model, the columns added, removed or whose type changed, and
for each removed column the downstream columns computed from it (they break, or silently change, once it is gone).

Both versions of a model are in SQLMesh's context diff (`modified_snapshots`: new and old snapshot), each with the
columns SQLMesh knows (`columns_to_types`: declared, or derived from the query and its parents' columns; sources
declare their file's columns). What a removed column feeds is column lineage (`lineage.ColumnLineage`) over the models
as they were: the plan's snapshots with every modified model back at its old version.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, replace

from seeknal_sqlmesh.workflow.context import Workspace

if t.TYPE_CHECKING:
    from sqlglot import exp
    from sqlmesh.core.model import Model
    from sqlmesh.core.plan import Plan

ADDED, REMOVED, TYPE_CHANGED = "added", "removed", "type changed"


@dataclass(frozen=True)
class ColumnChange:
    """One column of a modified model that the plan adds, removes or retypes."""

    model: str
    column: str
    change: str  # added | removed | type changed
    old_type: str  # '' when added
    new_type: str  # '' when removed
    breaks: str  # removed columns: the downstream columns computed from it, comma-separated ('' for none)


def _types(model: Model) -> t.Optional[t.Dict[str, str]]:
    columns: t.Optional[t.Dict[str, exp.DataType]] = model.columns_to_types
    if not columns:
        return None  # SQLMesh cannot tell (a query it cannot resolve): no column-level changes for this model
    return {name: dtype.sql(dialect=model.dialect) for name, dtype in columns.items()}


def diff_columns(model: str, old: t.Dict[str, str], new: t.Dict[str, str]) -> t.List[ColumnChange]:
    """Added and retyped columns in the new order, then removed ones in the old order (names compared as SQLMesh
    normalised them)."""
    out = []
    for column, new_type in new.items():
        if column not in old:
            out.append(ColumnChange(model, column, ADDED, "", new_type, ""))
        elif old[column] != new_type:
            out.append(ColumnChange(model, column, TYPE_CHANGED, old[column], new_type, ""))
    out += [ColumnChange(model, c, REMOVED, old_type, "", "") for c, old_type in old.items() if c not in new]
    return out


def column_changes(ws: Workspace, built: Plan) -> t.List[ColumnChange]:
    """The column-level changes of every model the plan modifies (directly or indirectly), by model name."""
    from seeknal_sqlmesh.workflow.lineage import ColumnLineage

    diff = built.context_diff
    modified = {name: pair for name, pair in diff.modified_snapshots.items() if pair[0].is_model and pair[1].is_model}
    if not modified:
        return []
    found: t.List[ColumnChange] = []
    for name, (new, old) in sorted(modified.items(), key=lambda item: ws.display_name(item[0])):
        old_types, new_types = _types(old.model), _types(new.model)
        if old_types is not None and new_types is not None:
            found += diff_columns(ws.display_name(name), old_types, new_types)
    if not any(c.change == REMOVED for c in found):
        return found
    before: t.Dict[str, Model] = {s.name: s.model for s in diff.snapshots.values() if s.is_model}
    before.update({name: old.model for name, (_, old) in modified.items()})
    lineage = ColumnLineage(ws, models=before)
    fqn = {ws.display_name(name): name for name in modified}
    out = []
    for change in found:
        if change.change == REMOVED:
            try:
                graph = lineage.downstream_from(fqn[change.model], change.column)
                fed = sorted(node for node in graph.nodes if node != graph.root)
            except Exception:  # lineage is best effort: a query sqlglot cannot follow lists nothing, the plan stands
                fed = []
            change = replace(change, breaks=", ".join(fed))
        out.append(change)
    return out
