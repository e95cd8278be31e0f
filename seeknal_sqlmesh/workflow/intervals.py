"""Intervals in SQLMesh state: what each model of an environment has processed and misses, and invalidation.

`invalidate` removes intervals from state for a model and everything downstream of it in the environment (what a
restatement does before it backfills): the next `seeknal run` finds them missing and computes them again.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from seeknal_sqlmesh.errors import SeeknalError
from seeknal_sqlmesh.workflow.context import Workspace, sqlmesh_errors

if t.TYPE_CHECKING:
    from sqlmesh.core.snapshot import Snapshot
    from sqlmesh.utils.date import TimeLike

Interval = t.Tuple[int, int]


@dataclass(frozen=True)
class IntervalRow:
    model: str
    kind: str
    processed: str
    missing: str
    missing_count: int


def _env_snapshots(ws: Workspace, environment: str) -> t.Dict[str, Snapshot]:
    """The environment's snapshots by model fqn, with their intervals from state."""
    env = ws.environment_tables(environment).environment
    return {s.name: s for s in ws.context.state_reader.get_snapshots(env.snapshots).values()}


def missing_by_model(
    ws: Workspace,
    environment: str,
    select: t.Sequence[str] = (),
    *,
    start: t.Optional[TimeLike] = None,
    end: t.Optional[TimeLike] = None,
) -> t.Dict[str, t.Tuple[Snapshot, t.List[Interval]]]:
    """Model name -> (snapshot, missing intervals) in the environment (SQLMesh's `check_intervals`)."""
    with sqlmesh_errors():
        found = ws.context.check_intervals(environment, no_signals=True, select_models=select, start=start, end=end)
    return {ws.display_name(s.name): (s, list(i.intervals)) for s, i in found.items() if s.is_model}


def check_intervals(
    ws: Workspace,
    node: t.Optional[str] = None,
    *,
    environment: str = "prod",
    start: t.Optional[TimeLike] = None,
    end: t.Optional[TimeLike] = None,
) -> t.List[IntervalRow]:
    """Per model of the environment (or one node): the intervals processed and those still missing."""
    from sqlmesh.core.snapshot.definition import format_intervals

    select = [ws.model(node).name] if node else []
    rows = []
    for model, (snapshot, missing) in sorted(missing_by_model(ws, environment, select, start=start, end=end).items()):
        unit = snapshot.node.interval_unit
        rows.append(
            IntervalRow(
                model,
                snapshot.model_kind_name.name if snapshot.model_kind_name else "",
                format_intervals(snapshot.intervals, unit),
                format_intervals(missing, unit),
                len(missing),
            )
        )
    return rows


@dataclass(frozen=True)
class Invalidated:
    model: str
    removed: str


def invalidate(
    ws: Workspace,
    node: str,
    *,
    start: TimeLike,
    end: t.Optional[TimeLike] = None,
    environment: str = "prod",
) -> t.List[Invalidated]:
    """Mark `node` and its downstream in `environment` for reprocessing from `start` to `end` (default: now).

    Models that can only be rebuilt whole (FULL and the like) lose all their intervals up to `end`, as in a
    SQLMesh restatement. In prod, other versions of the same tables lose them too (as `sqlmesh plan --restate-model`
    does), so an environment sharing a table does not keep stale intervals. Intervals belong to a table: a model
    a development environment shares with prod (unchanged in it) is invalidated for both.
    """
    from sqlmesh.utils.dag import DAG
    from sqlmesh.utils.date import now_timestamp, to_timestamp

    name = environment.strip().lower()
    model = ws.model(node)
    snapshots = _env_snapshots(ws, name)
    if model.fqn not in snapshots:
        raise SeeknalError(
            f"environment '{name}' has no model {model.name}", f"plan it first: seeknal plan {name} --auto-apply"
        )
    dag: DAG[str] = DAG()
    for fqn, snapshot in snapshots.items():
        dag.add(fqn, [p.name for p in snapshot.parents if p.name in snapshots])
    now = now_timestamp()
    last = end if end is not None else now
    if to_timestamp(start) > to_timestamp(last):
        raise SeeknalError(f"--start {start} is after --end {last}", "give a start on or before the end")
    removals: t.List[t.Tuple[Snapshot, Interval]] = []
    out = []
    for fqn in [model.fqn, *dag.downstream(model.fqn)]:
        snapshot = snapshots[fqn]
        if not snapshot.is_model or snapshot.is_symbolic:
            continue
        interval = snapshot.get_removal_interval(start, last, now, strict=False)
        removals.append((snapshot, interval))
        out.append(Invalidated(ws.display_name(fqn), _span(snapshot, interval)))
    with sqlmesh_errors():
        ws.context.state_sync.remove_intervals(removals, remove_shared_versions=name == "prod")
    return out


def _span(snapshot: Snapshot, interval: Interval) -> str:
    from sqlmesh.core.snapshot.definition import format_intervals

    return format_intervals([interval], snapshot.node.interval_unit)
