"""File sources whose data changed since an environment processed them: found by `seeknal run`, then restated.

SQLMesh fingerprints a model's code, not the files it reads, so a changed CSV or Parquet file is invisible to
`plan` and `run`. For every file source of the manifest (`NodeEntry.data_files`), `Layout.SOURCE_FILES` in the
translated folder records, per environment, what each file was when that environment last processed it: size,
modification time and a SHA-256 of the content. A file counts as changed when its size or mtime differs and its
content hash differs too (a `touch` is not a change), or when files appear or disappear under a glob.

A changed source is restated in the environment the way SQLMesh restates (`sqlmesh plan --restate-model`): the
intervals of the source and of everything downstream of it in the environment are removed from state, so the run
that follows computes them again — FULL models are rebuilt whole, incremental ones reprocess every interval they had.
The run uses the environment's snapshots from state, never the files on disk, so code edits are not deployed by it.

An environment with no record yet (planned before this file existed) counts a file as changed when it was modified
after the environment was last planned; otherwise what is on disk becomes the record.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import typing as t
from dataclasses import dataclass
from pathlib import Path

from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.workflow.context import Workspace, sqlmesh_errors

if t.TYPE_CHECKING:
    from sqlmesh.core.snapshot import Snapshot

RECORD_VERSION = 1
FileRecord = t.Dict[str, t.Any]  # {"size": int, "mtime_ns": int, "sha256": str}
Files = t.Dict[str, FileRecord]  # file path (relative to the translated folder when inside it) -> record


@dataclass(frozen=True)
class ChangedSource:
    model: str  # the source's model, e.g. source.events
    files: t.Tuple[str, ...]  # the files that changed, appeared or disappeared


def tracked_sources(ws: Workspace) -> t.Dict[str, t.List[str]]:
    """Model name -> the data file paths (globs allowed) of each file source of the manifest."""
    out = {}
    for entry in ws.manifest.nodes.values():
        if entry.kind == "source" and entry.data_files and entry.models:
            out[entry.models[0]] = list(entry.data_files)
    return out


def expand(root: Path, pattern: str) -> t.List[Path]:
    """The existing files a reader path stands for: a file, a glob, or every file under a folder."""
    path = Path(pattern) if Path(pattern).is_absolute() else root / pattern
    if glob.has_magic(str(path)):
        found = [Path(p) for p in glob.glob(str(path), recursive=True)]
    elif path.is_dir():
        found = list(path.rglob("*"))
    else:
        found = [path] if path.exists() else []
    return sorted(p for p in found if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(root: Path, path: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def current_files(root: Path, patterns: t.Sequence[str], known: t.Optional[Files] = None) -> Files:
    """Size, mtime and hash of every file the patterns cover; the hash of `known` is reused when size and mtime are
    the same (a file is read only when it may have changed)."""
    known = known or {}
    out: Files = {}
    for pattern in patterns:
        for path in expand(root, pattern):
            stat = path.stat()
            key = _key(root, path)
            before = known.get(key)
            if before and before.get("size") == stat.st_size and before.get("mtime_ns") == stat.st_mtime_ns:
                out[key] = dict(before)
            else:
                out[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _sha256(path)}
    return out


def differences(before: Files, now: Files) -> t.List[str]:
    """Files whose content changed, that appeared or that disappeared."""
    keys = sorted(set(before) | set(now))
    return [k for k in keys if k not in before or k not in now or before[k].get("sha256") != now[k].get("sha256")]


class SourceFiles:
    """The record file: {"version": 1, "environments": {env: {model: {path: {size, mtime_ns, sha256}}}},
    "quiet_runs": {env: what the last run that left nothing missing saw}}."""

    def __init__(self, translated: Path):
        from seeknal_sqlmesh import contract

        # beside the warehouse and SQLMesh state (the data area, which translation never replaces), when there is one
        area: Path = getattr(contract, "data_area", lambda p: p)(translated)
        self.root = translated
        self.path = area / Layout.SOURCE_FILES
        self.environments: t.Dict[str, t.Dict[str, Files]] = {}
        self.quiet_runs: t.Dict[str, t.Dict[str, t.Any]] = {}  # per environment: see `record_quiet_run`
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and data.get("version") == RECORD_VERSION:
            self.environments = dict(data.get("environments") or {})
            self.quiet_runs = dict(data.get("quiet_runs") or {})

    def recorded(self, environment: str) -> t.Dict[str, Files]:
        return self.environments.get(environment, {})

    def record(self, environment: str, files: t.Mapping[str, Files]) -> None:
        self.environments.setdefault(environment, {}).update(files)
        self.save()

    def save(self) -> None:
        data = {"version": RECORD_VERSION, "environments": self.environments, "quiet_runs": self.quiet_runs}
        text = json.dumps(data, indent=1, sort_keys=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, self.path)


@dataclass
class Check:
    """What `check` found: the changed sources, and the fingerprints to record once they are handled."""

    environment: str
    changed: t.List[ChangedSource]
    current: t.Dict[str, Files]  # model -> what is on disk now


def check(ws: Workspace, environment: str, models: t.Optional[t.Iterable[str]] = None) -> Check:
    """The file sources of `environment` whose files changed since the environment processed them."""
    name = environment.strip().lower()
    store = SourceFiles(ws.translated)
    recorded = store.recorded(name)
    env = ws.environment_tables(name).environment
    in_env = {ws.display_name(s.name).lower() for s in env.snapshots}  # the models need not be loaded
    planned_ns = int(env.finalized_ts or 0) * 1_000_000  # epoch ms -> ns
    wanted = {m.lower() for m in models} if models is not None else None
    changed, current = [], {}
    for model, patterns in sorted(tracked_sources(ws).items()):
        if model.lower() not in in_env or (wanted is not None and model.lower() not in wanted):
            continue
        before = recorded.get(model)
        now = current_files(ws.translated, patterns, before)
        current[model] = now
        if before is not None:
            diff = differences(before, now)
        else:  # no record: a file modified after the environment was last planned has not been processed
            diff = [k for k, v in now.items() if planned_ns and v["mtime_ns"] > planned_ns]
        if diff:
            changed.append(ChangedSource(model, tuple(diff)))
    return Check(name, changed, current)


def restate(ws: Workspace, environment: str, models: t.Sequence[str]) -> t.List[str]:
    """Remove every interval of `models` and of their downstream in the environment (a SQLMesh restatement without
    the backfill); the next run computes them again. Returns the models whose intervals were removed."""
    from sqlmesh.utils.dag import DAG
    from sqlmesh.utils.date import now_timestamp

    from seeknal_sqlmesh.workflow.intervals import _env_snapshots

    name = environment.strip().lower()
    snapshots = _env_snapshots(ws, name)
    dag: DAG[str] = DAG()
    for fqn, snapshot in snapshots.items():
        dag.add(fqn, [p.name for p in snapshot.parents if p.name in snapshots])
    by_name = {ws.display_name(fqn).lower(): fqn for fqn in snapshots}
    roots = [by_name[m.lower()] for m in models if m.lower() in by_name]
    chosen = dict.fromkeys(fqn for root in roots if root in snapshots for fqn in [root, *dag.downstream(root)])
    now = now_timestamp()
    removals: t.List[t.Tuple[Snapshot, t.Tuple[int, int]]] = []
    done = []
    for fqn in chosen:
        snapshot = snapshots[fqn]
        if not snapshot.is_model or snapshot.is_symbolic or not snapshot.intervals:
            continue
        if getattr(snapshot.node, "disable_restatement", False):
            continue
        interval = snapshot.get_removal_interval(snapshot.intervals[0][0], now, now, strict=False)
        removals.append((snapshot, interval))
        done.append(ws.display_name(fqn))
    if removals:
        with sqlmesh_errors():
            ws.context.state_sync.remove_intervals(removals, remove_shared_versions=name == "prod")
    return done


def restate_changed(ws: Workspace, environment: str, *, restate_sources: bool = True) -> t.List[ChangedSource]:
    """Find the changed file sources of the environment; with `restate_sources`, restate them and their downstream
    and record what is on disk as processed. Without it, changed sources keep their old record (a later run with
    restating notices them again); unchanged ones are recorded."""
    found = check(ws, environment)
    changed = {c.model for c in found.changed}
    if restate_sources and changed:
        restate(ws, found.environment, sorted(changed))
    keep = set() if restate_sources else changed
    SourceFiles(ws.translated).record(found.environment, {m: f for m, f in found.current.items() if m not in keep})
    return found.changed


# ---------------------------------------------------------------------- a no-op `seeknal run` without SQLMesh


def _state_files(translated: Path) -> t.Optional[t.List[t.List[t.Any]]]:
    """(name, mtime_ns, size) of the DuckDB state files, or None when the state is not a local DuckDB file."""
    from seeknal_sqlmesh import contract

    area: Path = getattr(contract, "data_area", lambda p: p)(translated)
    state = area / Layout.STATE
    if not state.is_file():
        return None
    out = []
    for path in (state, state.with_name(state.name + ".wal")):
        stat = path.stat() if path.exists() else None
        out.append([path.name, stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0])
    return out


def record_quiet_run(
    translated: Path, environment: str, key: str, next_ready_ms: int, patterns: t.Mapping[str, t.Sequence[str]]
) -> None:
    """After a run that left nothing missing: the state files as they are now, when the next cron interval of any
    model starts, and the source patterns; `nothing_to_run` compares with them."""
    stamps = _state_files(translated)
    if stamps is None:
        return
    store = SourceFiles(translated)
    store.quiet_runs[environment] = {
        "key": key,
        "state": stamps,
        "next_ready_ms": next_ready_ms,
        "patterns": dict(patterns),
    }
    store.save()


def nothing_to_run(translated: Path, environment: str, key: str) -> bool:
    """True when a run of `environment` with the same options would provably do nothing: no plan, run or janitor
    touched the state since the last run (the state files are unchanged), no model's next cron interval has started,
    and no source file changed size or mtime. Then `seeknal run` answers without loading SQLMesh."""
    import time

    store = SourceFiles(translated)
    last = store.quiet_runs.get(environment)
    if not last or last.get("key") != key or time.time() * 1000 >= last.get("next_ready_ms", 0):
        return False
    if _state_files(translated) != last.get("state"):
        return False
    recorded = store.recorded(environment)
    for model, patterns in last.get("patterns", {}).items():
        before = recorded.get(model)
        if before is None:
            return False
        now = {}
        for path in (p for pattern in patterns for p in expand(translated, pattern)):
            stat = path.stat()
            now[_key(translated, path)] = (stat.st_size, stat.st_mtime_ns)
        if now != {k: (v.get("size"), v.get("mtime_ns")) for k, v in before.items()}:
            return False
    return True
