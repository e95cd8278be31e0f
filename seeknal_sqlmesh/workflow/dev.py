"""`seeknal dev`: one warm process that watches a Seeknal project and keeps a development environment up to date.

Each cold `seeknal plan` pays for imports and for loading the SQLMesh project before doing any work; here both are
paid once. The loop polls the Seeknal project's files (mtime and size; no watcher dependency), and on a change:

1. re-translates what changed, in-process (`plan.translate_changes`: nothing is written when the translation is
   up to date, so SQLMesh sees exactly the changed nodes);
2. reloads the models of the one open SQLMesh `Context` (`Context.load`; the context is re-created only when the
   settings changed, since SQLMesh reads them when it is created);
3. plans and applies the environment (`dev` by default) without prompts;
4. restates file sources whose data changed since the environment processed them, with their downstream
   (`workflow.sources`), and runs the environment.

A short summary is printed per cycle. Ctrl-C stops the loop cleanly; `max_cycles` stops it after N cycles (the
first cycle runs at start-up).
"""

from __future__ import annotations

import os
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from seeknal_sqlmesh.contract import Layout, ProjectPaths
from seeknal_sqlmesh.errors import SeeknalError

if t.TYPE_CHECKING:
    from seeknal_sqlmesh.workflow.context import Workspace
    from seeknal_sqlmesh.workflow.plan import ModelChange
    from seeknal_sqlmesh.workflow.sources import ChangedSource

SKIPPED_DIRS = {"target", "__pycache__", "node_modules", "logs"}
Stamp = t.Tuple[int, int]  # (mtime_ns, size)


@dataclass
class Cycle:
    """One pass of the loop: what triggered it and what it did."""

    number: int
    edited: t.List[str]  # files of the Seeknal project that changed (relative); empty for the first cycle
    translated: t.List[str] = field(default_factory=list)  # files of the translation that changed
    changes: t.List[ModelChange] = field(default_factory=list)  # the plan applied to the environment
    restated: t.List[ChangedSource] = field(default_factory=list)  # file sources recomputed for changed data
    error: t.Optional[str] = None
    wall: float = 0.0
    cpu: float = 0.0

    def summary(self, environment: str) -> str:
        head = f"[{self.number}] "
        if self.edited:
            shown = ", ".join(self.edited[:3]) + (f" (+{len(self.edited) - 3})" if len(self.edited) > 3 else "")
            head += f"{shown}: "
        if self.error:
            return f"{head}error: {self.error}"
        parts = []
        if self.translated:
            parts.append(f"{len(self.translated)} translated files changed")
        if self.changes:
            names = ", ".join(f"{c.model} ({c.change})" for c in self.changes[:5])
            more = f" (+{len(self.changes) - 5})" if len(self.changes) > 5 else ""
            parts.append(f"'{environment}' applied: {names}{more}")
        if self.restated:
            parts.append("data changed, recomputed: " + ", ".join(c.model for c in self.restated))
        if not parts:
            parts.append(f"'{environment}' is up to date")
        return f"{head}{'; '.join(parts)} ({self.wall:.2f} s, cpu {self.cpu:.2f} s)"


def project_files(root: Path, skip: t.Iterable[Path] = ()) -> t.Dict[str, Stamp]:
    """(mtime, size) of every file of the Seeknal project, outside target/, hidden folders and `skip`."""
    skipped = {p.resolve() for p in skip}
    out: t.Dict[str, Stamp] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [
            d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS and (here / d).resolve() not in skipped
        ]
        for name in files:
            if name.startswith(".") or name.endswith((".pyc", ".tmp", ".swp", "~")):
                continue
            path = here / name
            try:
                stat = path.stat()
            except OSError:  # removed while walking
                continue
            out[path.relative_to(root).as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return out


def _edited(before: t.Mapping[str, Stamp], after: t.Mapping[str, Stamp]) -> t.List[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


class DevLoop:
    """The state of `seeknal dev`: the Seeknal project, its translation and one open SQLMesh `Context`."""

    def __init__(
        self,
        paths: ProjectPaths,
        environment: str = "dev",
        *,
        translate_options: t.Optional[t.Dict[str, t.Any]] = None,
        restate_changed: bool = True,
    ):
        if paths.seeknal is None:
            raise SeeknalError(
                f"{paths.translated} does not name its Seeknal project",
                "run `seeknal dev -p <Seeknal project>`: the loop watches and translates the Seeknal project",
            )
        self.environment = environment.strip().lower()
        if self.environment == "prod":
            raise SeeknalError(
                "`seeknal dev` keeps a development environment up to date, not prod",
                "use --env dev (the default), then `seeknal promote dev`",
            )
        self.paths = paths
        self.root: Path = paths.seeknal
        self.translate_options = dict(translate_options or {})
        self.restate_changed = restate_changed
        self.ws: t.Optional[Workspace] = None
        self.stamps: t.Dict[str, Stamp] = {}
        self.digests: t.Dict[str, str] = {}  # content hash of each file whose stamp changed (or all, at start)
        self.cycles = 0

    # ------------------------------------------------------------------ the loop

    def poll(self) -> t.List[str]:
        """Files of the Seeknal project whose content changed since the last cycle: one stat per file, and a hash of
        the files whose mtime or size moved (a file saved again unchanged is no change)."""
        stamps = project_files(self.root, [self.paths.translated])
        moved = _edited(self.stamps, stamps)
        self.stamps = stamps
        return [rel for rel in moved if self._rehash(rel)]

    def _rehash(self, rel: str) -> bool:
        """Update the content hash of `rel`; True when it differs from the one known (or the file appeared/went)."""
        import hashlib

        path = self.root / rel
        digest = hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else ""
        changed = self.digests.get(rel) != digest
        self.digests[rel] = digest
        return changed

    def cycle(self, edited: t.Sequence[str] = ()) -> Cycle:
        """Translate what changed, reload the models, plan and apply the environment, restate changed data."""
        from seeknal_sqlmesh.workflow import plan as planning
        from seeknal_sqlmesh.workflow import sources
        from seeknal_sqlmesh.workflow.context import open_workspace, sqlmesh_errors

        self.cycles += 1
        wall, cpu = time.perf_counter(), time.process_time()
        result = Cycle(self.cycles, list(edited))
        if self.ws is not None and not edited:  # nothing changed since the last cycle: nothing to translate or run
            result.wall, result.cpu = time.perf_counter() - wall, time.process_time() - cpu
            return result
        stamps = project_files(self.root, [self.paths.translated])
        for rel in _edited(self.stamps, stamps) if self.stamps else stamps:
            self._rehash(rel)
        self.stamps = stamps
        try:
            # translation keeps the mtime of files it rewrote unchanged, so SQLMesh's loader cache serves their models
            result.translated = planning.translate_changes(self.paths, **self.translate_options)
            if self.ws is None or Layout.SETTINGS in result.translated or Layout.CONFIG_PY in result.translated:
                self.close()
                self.ws = open_workspace(self.paths)
            elif result.translated:
                with sqlmesh_errors():
                    self.ws.context.load()
                self.ws._manifest = None
            ws = self.ws
            if result.translated or result.number == 1:  # every model in the environment: dev can be queried whole
                planned = planning.plan(ws, self.environment, auto_apply=True, include_unmodified=True)
                result.changes = planned.changes
            if self.restate_changed:
                result.restated = sources.restate_changed(ws, self.environment)
                if result.restated:
                    with sqlmesh_errors(check=True):
                        ws.context.run(self.environment)
        except SeeknalError as e:  # a bad edit: say what, keep watching
            result.error = str(e)
        result.wall, result.cpu = time.perf_counter() - wall, time.process_time() - cpu
        return result

    def watch(
        self,
        *,
        max_cycles: t.Optional[int] = None,
        poll_seconds: float = 0.5,
        report: t.Callable[[Cycle], None] = lambda c: None,
        idle: t.Callable[[], None] = lambda: None,
    ) -> int:
        """Cycle at start-up, then on every change, until Ctrl-C or `max_cycles`; returns the number of cycles."""
        try:
            report(self.cycle())
            while max_cycles is None or self.cycles < max_cycles:
                idle()
                edited = self.poll()
                if edited:
                    report(self.cycle(edited))
                else:
                    time.sleep(poll_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()
        return self.cycles

    def close(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            ws.close()
