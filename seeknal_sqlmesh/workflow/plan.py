"""Plan, apply, promote and run, on one SQLMesh `Context`; environments and the janitor.

Everything here is SQLMesh's own machinery: `Context.plan` (diff, change categories, backfill), `Context.run`
(missing intervals by cron), `Context.invalidate_environment` and `Context.run_janitor`. What seeknal-sqlmesh adds:
Seeknal node ids, an in-process translation before `plan` when `-p` is a Seeknal project, a promotion that points prod
at an environment's snapshots without recomputing anything, and results as data (the CLI prints them as tables).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from seeknal_sqlmesh.contract import ProjectPaths
from seeknal_sqlmesh.errors import CheckFailed, SeeknalError
from seeknal_sqlmesh.workflow.context import Workspace, sqlmesh_errors

if t.TYPE_CHECKING:
    from sqlmesh.core.plan import Plan
    from sqlmesh.core.snapshot import Snapshot
    from sqlmesh.utils.date import TimeLike

    from seeknal_sqlmesh.workflow.columns import ColumnChange
    from seeknal_sqlmesh.workflow.sources import ChangedSource

PROD = "prod"


@dataclass(frozen=True)
class ModelChange:
    """One model in a plan: how it changed, its change category and what it backfills."""

    model: str
    change: str  # added | removed | directly modified | indirectly modified | metadata | backfill only
    category: str  # breaking, non-breaking, indirect-breaking, ... ('' when SQLMesh did not categorize it)
    backfill: str  # the intervals to compute ('' when none)


@dataclass
class PlanResult:
    environment: str
    plan: Plan
    applied: bool
    changes: t.List[ModelChange] = field(default_factory=list)
    columns: t.List[ColumnChange] = field(default_factory=list)  # column-level changes of the modified models

    @property
    def has_work(self) -> bool:
        return bool(self.changes)


def translate_changes(paths: ProjectPaths, **options: t.Any) -> t.List[str]:
    """Translate the Seeknal project into `paths.translated` when the translation is stale; returns what changed.

    `options` are `translate_project`'s (params, settings_overrides, profile, env, start). Nothing is written when the
    translation is up to date, so SQLMesh sees exactly the nodes that changed.
    """
    if paths.seeknal is None:
        raise SeeknalError(
            f"{paths.translated} does not name its Seeknal project", "pass the Seeknal project with -p to translate it"
        )
    from seeknal_sqlmesh import fingerprint
    from seeknal_sqlmesh.translators.publish import project_lock

    recorded = fingerprint.translate_options(
        options.get("params"),
        options.get("settings_overrides"),
        options.get("profile"),
        options.get("profiles_env"),
        options.get("start", "2000-01-01"),
    )
    with project_lock(paths.translated):  # the check and the translation see the same folder
        if fingerprint.unchanged(paths.seeknal, paths.translated, recorded) is not None:
            return []  # nothing the translation reads changed since it was last written: no SQLMesh import needed
        from seeknal_sqlmesh.translators import translate_project

        # one translation: compared with the output, written only when something changed
        return list(translate_project(paths.seeknal, paths.translated, only_if_stale=True, **options).stale)


def plan(
    ws: Workspace,
    environment: str = PROD,
    *,
    auto_apply: bool = False,
    restate: t.Sequence[str] = (),
    select: t.Sequence[str] = (),
    start: t.Optional[TimeLike] = None,
    end: t.Optional[TimeLike] = None,
    skip_tests: bool = False,
    include_unmodified: bool = False,
    prompt: bool = False,
) -> PlanResult:
    """SQLMesh's plan of the project for `environment` (prod by default), applied with `auto_apply`.

    `restate` are node ids (or selections) whose intervals are recomputed; `select` limits the plan to some nodes
    (`transform.x+` adds the downstream); `include_unmodified` creates a development environment with every model,
    changed or not. With `prompt`, SQLMesh's console asks (categories, dates, apply) as
    `sqlmesh plan` does at a terminal.
    """
    ctx = ws.context
    options: t.Dict[str, t.Any] = {
        "start": start,
        "end": end,
        "restate_models": [_model_selector(ws, s) for s in restate] or None,
        "select_models": ws.selection(select) or None,
        "skip_tests": skip_tests,
        "include_unmodified": include_unmodified or None,
    }
    with sqlmesh_errors():
        if auto_apply or prompt:
            built = ctx.plan(environment, no_prompts=not prompt, auto_apply=auto_apply, **options)
        else:  # show it, apply nothing (SQLMesh's console would ask "Apply?" even without prompts)
            built = ctx.plan_builder(environment, **options).build()
            _show(ctx, built)
    env = ctx.state_reader.get_environment(built.environment_naming_info.name)
    applied = env is not None and env.plan_id == built.plan_id
    from seeknal_sqlmesh.workflow.columns import column_changes

    name = built.environment_naming_info.name
    return PlanResult(name, built, applied, changes(ws, built), column_changes(ws, built))


def apply(ws: Workspace, environment: str = PROD, **options: t.Any) -> PlanResult:
    """`plan` + apply without prompts (`sqlmesh plan ENV --auto-apply --no-prompts`)."""
    return plan(ws, environment, auto_apply=True, **options)


def promote(ws: Workspace, environment: str, *, dry_run: bool = False) -> PlanResult:
    """Point prod at `environment`'s snapshots; nothing is recomputed.

    SQLMesh's prod plan is built from the environment's snapshots as they are in state (not from the files), so
    what was reviewed in the environment is what prod gets. Refused when any of them still misses intervals that
    prod would need (then it would not be a promotion but a backfill): run the environment first.
    """
    from sqlmesh.core.context_diff import ContextDiff
    from sqlmesh.core.plan import PlanBuilder
    from sqlmesh.utils.date import to_datetime

    name = environment.strip().lower()
    if name == PROD:
        raise SeeknalError(
            "prod cannot be promoted to itself", "promote a development environment: seeknal promote dev"
        )
    ctx = ws.context
    state = ctx.state_reader
    source = ws.environment_tables(name).environment
    snapshots = {s.name: s for s in state.get_snapshots(source.snapshots).values()}
    ends = state.max_interval_end_per_model(name)
    with sqlmesh_errors():
        diff = ContextDiff.create(
            PROD,
            snapshots=snapshots,
            create_from=PROD,
            state_reader=state,
            provided_requirements=source.requirements,
            excluded_requirements=set(),
            environment_statements=state.get_environment_statements(name),
            gateway_managed_virtual_layer=ctx.config.gateway_managed_virtual_layer,
        )
        builder = PlanBuilder(
            diff,
            default_start=source.start_at,
            default_end=max(ends.values()) if ends else source.end_at,
            end_override_per_model={model: to_datetime(ts) for model, ts in ends.items()},
            end_bounded=True,
            apply=ctx.apply,
            is_dev=False,
            environment_suffix_target=ctx.config.environment_suffix_target,
            environment_catalog_mapping=ctx.environment_catalog_mapping,
            categorizer_config=ctx.auto_categorize_changes,
            console=ctx.console,
        )
        built = builder.build()
    if built.missing_intervals:
        missing = ", ".join(
            sorted(ws.display_name(m.snapshot_id.name) for m in built.missing_intervals if m.snapshot_id)
        )
        raise CheckFailed(
            f"'{name}' is not fully computed: {missing} would be backfilled by a promotion",
            f"run it first (seeknal run --env {name}), or plan prod itself (seeknal apply prod)",
        )
    result = PlanResult(PROD, built, applied=False, changes=changes(ws, built))
    if dry_run or not built.has_changes:
        _show(ctx, built)
        return result
    with sqlmesh_errors():
        ctx.console.plan(builder, auto_apply=True, default_catalog=ctx.default_catalog, no_prompts=True)
    env = state.get_environment(PROD)
    result.applied = env is not None and env.plan_id == built.plan_id
    return result


def _show(ctx: t.Any, built: Plan) -> None:
    """SQLMesh's summary of the differences (with the diffs), without its apply prompt."""
    ctx.console.show_model_difference_summary(
        built.context_diff, built.environment_naming_info, ctx.default_catalog, no_diff=False
    )


@dataclass(frozen=True)
class Processed:
    model: str
    intervals: str
    count: int


@dataclass
class RunResult:
    environment: str
    status: str  # success | nothing to do | failure
    processed: t.List[Processed] = field(default_factory=list)
    changed_sources: t.List[ChangedSource] = field(default_factory=list)  # file sources whose data changed
    restated: bool = False  # whether the changed sources (and their downstream) were recomputed
    next_ready_ms: t.Optional[int] = None  # when the next cron interval of any model starts (epoch ms)


def run(
    ws: Workspace,
    environment: str = PROD,
    *,
    start: t.Optional[TimeLike] = None,
    end: t.Optional[TimeLike] = None,
    select: t.Sequence[str] = (),
    ignore_cron: bool = False,
    restate_changed: bool = True,
) -> RunResult:
    """SQLMesh's run of `environment`: every model's missing intervals that its cron allows (`sqlmesh run`).

    File sources whose data changed since the environment processed them are restated first, with their
    downstream (`workflow.sources`); `restate_changed=False` only reports them. Returns the intervals that were
    missing before the run (or restated) and are there after it. A failed run raises `CheckFailed` naming the models
    that failed.
    """
    from seeknal_sqlmesh.workflow import sources
    from seeknal_sqlmesh.workflow.intervals import missing_by_model

    ctx = ws.context
    name = environment.strip().lower()
    tables = ws.environment_tables(name)  # a clear error when the environment was never planned
    selection = ws.selection(select)
    changed = sources.restate_changed(ws, name, restate_sources=restate_changed)
    before = missing_by_model(ws, name, selection, start=start, end=end)
    with sqlmesh_errors(check=True):
        status = ctx.run(name, start=start, end=end, select_models=selection or None, ignore_cron=ignore_cron)
    after = before if status.is_nothing_to_do else missing_by_model(ws, name, selection, start=start, end=end)
    processed = []
    for model, (snapshot, intervals) in sorted(before.items()):
        remaining = set(after.get(model, (snapshot, []))[1])
        done = [i for i in intervals if i not in remaining]
        if done:
            processed.append(Processed(model, _format(snapshot, done), len(done)))
    if status.is_failure:
        failed = sorted(set(before) - {p.model for p in processed}) or ["(see the log above)"]
        raise CheckFailed(
            f"the run of '{name}' failed; not processed: {', '.join(failed)}", "fix the model and run again"
        )
    status_text = "nothing to do" if status.is_nothing_to_do else "success"
    result = RunResult(name, status_text, processed, changed, restated=restate_changed and bool(changed))
    if not selection and not (changed and not restate_changed):
        from sqlmesh.core.snapshot.definition import get_next_model_interval_start
        from sqlmesh.utils.date import to_timestamp

        ready = get_next_model_interval_start(ctx.state_reader.get_snapshots(tables.environment.snapshots).values())
        result.next_ready_ms = to_timestamp(ready) if ready is not None else None
    return result


def _format(snapshot: Snapshot, intervals: t.Sequence[t.Tuple[int, int]]) -> str:
    from sqlmesh.core.snapshot.definition import format_intervals, merge_intervals

    if not snapshot.is_incremental:
        return "full refresh"
    return format_intervals(merge_intervals(list(intervals)), snapshot.node.interval_unit)


def changes(ws: Workspace, built: Plan) -> t.List[ModelChange]:
    """The plan as rows: each model that changes or is computed, with its category and backfill."""
    diff = built.context_diff
    missing = {m.snapshot_id: m.intervals for m in built.missing_intervals}
    indirect = {sid for children in built.indirectly_modified.values() for sid in children}
    rows: t.Dict[str, ModelChange] = {}

    def add(snapshot: t.Any, change: str) -> None:
        if snapshot.name in rows:
            return
        category = getattr(snapshot, "change_category", None)
        intervals = missing.get(snapshot.snapshot_id, [])
        backfill = _format(snapshot, intervals) if intervals else ""
        label = category.name.lower().replace("_", "-") if category is not None else ""
        rows[snapshot.name] = ModelChange(ws.display_name(snapshot.name), change, label, backfill)

    for sid in diff.added:
        add(diff.snapshots[sid], "added")
    for sid in built.directly_modified:
        add(diff.snapshots[sid], "directly modified")
    for sid in indirect:
        add(diff.snapshots[sid], "indirectly modified")
    for sid in built.metadata_updated:
        add(diff.snapshots[sid], "metadata")
    for info in diff.removed_snapshots.values():
        rows[info.name] = ModelChange(ws.display_name(info.name), "removed", "", "")
    for sid in missing:
        snapshot = built.snapshots.get(sid)
        if snapshot is not None:
            add(snapshot, "backfill only")
    return sorted(rows.values(), key=lambda r: r.model)


def _model_selector(ws: Workspace, selector: str) -> str:
    selector = selector.strip()
    if selector.startswith("tag:") or any(ch in selector for ch in "*+"):
        return ws.selection([selector])[0]
    return ws.model(selector).name


# ---------------------------------------------------------------------- environments and the janitor


@dataclass(frozen=True)
class EnvironmentRow:
    environment: str
    models: int
    start: str
    end: str
    expires: str  # '' for never
    finalized: str


def environments(ws: Workspace) -> t.List[EnvironmentRow]:
    """The SQLMesh environments in state (`sqlmesh environments`)."""
    from sqlmesh.utils.date import time_like_to_str, to_datetime

    def when(ts: t.Any) -> str:
        return "" if ts is None else to_datetime(ts).strftime("%Y-%m-%d %H:%M:%S")

    rows = []
    for env in sorted(ws.context.state_reader.get_environments(), key=lambda e: (e.name != PROD, e.name)):
        rows.append(
            EnvironmentRow(
                env.name,
                len(env.snapshots),
                time_like_to_str(env.start_at),
                "" if env.end_at is None else time_like_to_str(env.end_at),
                when(env.expiration_ts),
                when(env.finalized_ts),
            )
        )
    return rows


def drop_environment(ws: Workspace, environment: str) -> None:
    """Remove a development environment now: its views and its state record (`sqlmesh invalidate ENV --sync`)."""
    name = environment.strip().lower()
    if name == PROD:
        raise SeeknalError("prod cannot be dropped", "drop a development environment, e.g. seeknal env drop dev")
    ws.environment_tables(name)  # unknown names get the list of environments
    with sqlmesh_errors():
        ws.context.invalidate_environment(name, sync=True, must_exist=True)


@dataclass(frozen=True)
class Cleanup:
    what: str  # environment | snapshot | export | temporary folder
    name: str
    objects: str  # views or tables that go


def janitor(ws: Workspace, *, dry_run: bool = False, ignore_ttl: bool = False) -> t.List[Cleanup]:
    """Remove expired environments and the snapshots no environment uses (`sqlmesh janitor`), then the file exports
    of environments that no longer exist and the temporary folders interrupted translations left; `dry_run` lists.
    """
    from sqlmesh.core.state_sync.common import iter_expired_snapshot_batches
    from sqlmesh.utils.date import now_timestamp

    ctx = ws.context
    state = ctx.state_reader
    now = now_timestamp()
    found: t.List[Cleanup] = []
    for summary in state.get_expired_environments(current_ts=now):
        env = state.get_environment(summary.name)
        views = []
        if env is not None:
            from seeknal_sqlmesh.runtime.environments import environment_view

            views = [environment_view(s, env.naming_info).sql() for s in env.snapshots]
        found.append(Cleanup("environment", summary.name, ", ".join(sorted(views))))
    for batch in iter_expired_snapshot_batches(state, current_ts=now, ignore_ttl=ignore_ttl):
        for task in batch.cleanup_tasks:
            info = task.snapshot
            names = [info.table_name(is_deployable=False)]
            if not task.dev_table_only:
                names.insert(0, info.table_name(is_deployable=True))
            tables = [n for n in dict.fromkeys(names) if _exists(ctx, n)] or names[:1]
            found.append(Cleanup("snapshot", ws.display_name(info.name), ", ".join(tables)))
    if not dry_run and found:
        with sqlmesh_errors():
            ctx.run_janitor(ignore_ttl=ignore_ttl)
    expired = {c.name for c in found if c.what == "environment"}
    remaining = {e.name for e in state.get_environments() if e.name not in expired} | {PROD}
    return found + _janitor_files(ws, remaining, dry_run)


def _janitor_files(ws: Workspace, environments: t.Set[str], dry_run: bool) -> t.List[Cleanup]:
    """Exports of environments not in `environments` (in the data area, and the `<stem>__<env>` files older
    versions wrote next to prod's), and leftover `.<name>.new-*`/`.old-*` folders of interrupted translations."""
    import shutil

    from seeknal_sqlmesh.contract import Layout, data_area
    from seeknal_sqlmesh.translators.publish import ProjectLocked, project_lock, recover, temp_folders

    found: t.List[t.Tuple[Cleanup, Path]] = []
    exports = data_area(ws.translated) / Layout.EXPORTS_DIR
    for folder in sorted(exports.iterdir()) if exports.is_dir() else []:
        if folder.is_dir() and folder.name not in environments:
            found.append((Cleanup("export", folder.name, str(folder)), folder))
    for prod in _prod_exports(ws):
        for legacy in sorted(prod.parent.glob(f"{prod.stem}__*{prod.suffix}")) if prod.parent.is_dir() else []:
            env = legacy.name[len(prod.stem) + 2 : len(legacy.name) - len(prod.suffix)]
            if env and env not in environments and legacy.is_file():
                found.append((Cleanup("export", env, str(legacy)), legacy))
    temps = temp_folders(ws.translated)
    if temps and not dry_run:
        try:
            with project_lock(ws.translated, timeout=0):  # a running translation owns its folders: keep them
                recover(ws.translated)
        except ProjectLocked:
            temps = []
    found += [(Cleanup("temporary folder", p.name, str(p)), p) for p in temps]
    if not dry_run:
        for cleanup, path in found:
            if cleanup.what == "export" and path.is_dir():
                shutil.rmtree(path)
            elif cleanup.what == "export":
                path.unlink(missing_ok=True)
    return [cleanup for cleanup, _ in found]


def _prod_exports(ws: Workspace) -> t.List[Path]:
    """The files prod's file exposures write (the paths the Seeknal exposures name)."""
    manifest = ws.manifest
    seeknal = (ws.translated / manifest.seeknal_project).resolve()
    paths = []
    for entry in manifest.nodes.values():
        if entry.kind == "exposure" and entry.type == "file" and entry.params:
            path = entry.params.get("path")
            if isinstance(path, str) and path:
                paths.append((seeknal / path).resolve())
    return paths


def _exists(ctx: t.Any, table: str) -> bool:
    try:
        return bool(ctx.engine_adapter.table_exists(table))
    except Exception:  # another gateway's table: list it anyway
        return True
