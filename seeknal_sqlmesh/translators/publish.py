"""Put freshly generated code into a translated folder without ever touching its data.

The translated folder (`build/sample`) holds generated code, plus what users add there (`tests/` from
`seeknal create-test`). Data lives in the data area beside it (`build/sample.data`: warehouse, state, cache,
non-prod exports, the lock), which nothing here moves, rewrites or deletes. A translation:

1. takes the project's lock (`project_lock`: one translate at a time; a second one waits, then fails clearly);
2. on taking it, recovers from an interrupted earlier run (`recover`): a folder left renamed away is put back,
   leftover `.<name>.new-*` / `.<name>.old-*` folders are removed;
3. moves the data of a project translated before the data area existed into it, once (`migrate`: hard links, so
   the old and the new name are the same file until the old code is retired);
4. writes the code into a staging folder `.<name>.new-*` and hard-links the entries it does not own into it;
5. exchanges staging and the translated folder in one atomic step (`renameat2(RENAME_EXCHANGE)` on Linux,
   `renamex_np(RENAME_SWAP)` on macOS; elsewhere two renames, the gap repaired by step 2 of the next run);
6. removes the retired code, first moving back any file a user added to it meanwhile.

So a kill at any instant leaves the translated folder with the complete previous or the complete new code, and
the data where it was. `SEEKNAL_TRANSLATE_FAULT=<phase>` kills the process at a phase (`FAULT_PHASES`): the
fault-injection tests prove that claim phase by phase.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.errors import SeeknalError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, translations are not serialised
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("seeknal_sqlmesh")

FAULT_ENV = "SEEKNAL_TRANSLATE_FAULT"
# Where a translation can be killed on purpose (tests): each is a point between two steps.
FAULT_PHASES = (
    "locked",  # lock taken, nothing done yet
    "migrated",  # legacy data linked into the data area
    "writing",  # half of the generated files written into staging
    "staged",  # staging complete (code written, user entries linked)
    "moved_out",  # fallback swap only: the old folder renamed away, the new one not yet in place
    "exchanged",  # the new code is in place, the retired code still in the staging folder
    "retired",  # the retired code renamed to .old-*, not yet removed
)
LOCK_TIMEOUT_ENV = "SEEKNAL_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 60.0  # seconds a translation waits for another one on the same project
# regenerated, never carried into new code: SQLMesh's cache of the layout before the data area (now in the data area)
# and the bytecode of the previous config.py
NOT_CARRIED = (".cache", "__pycache__")


class ProjectLocked(SeeknalError):
    """Another process is translating (or planning) the same project."""


class DataConflict(SeeknalError):
    """Data of the old layout and of the data area would overwrite each other."""


def fault(phase: str) -> None:
    """Test hook: SIGKILL this process when `SEEKNAL_TRANSLATE_FAULT` names `phase` (nothing is cleaned up)."""
    if os.environ.get(FAULT_ENV) == phase:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------------- the lock

_held: t.Dict[str, t.List[int]] = {}  # lock file -> [fd, depth]: the lock is re-entrant within a process


def lock_path(translated: Path) -> Path:
    return Layout.data_dir(Path(translated).resolve()) / Layout.LOCK


@contextlib.contextmanager
def project_lock(translated: t.Union[str, Path], timeout: t.Optional[float] = None) -> t.Iterator[Path]:
    """Hold the project's lock (`<data area>/seeknal.lock`, an advisory `flock`) for the block.

    Waits up to `timeout` seconds (`SEEKNAL_LOCK_TIMEOUT`, default 60) for another holder, then raises
    `ProjectLocked` naming it. The kernel releases the lock when the holder exits, even on kill -9; whoever takes
    it next first repairs what that holder left (`recover`), so `seeknal plan` cleans up even when nothing changed.
    """
    path = lock_path(Path(translated))
    key = str(path)
    if key in _held or fcntl is None:
        if key in _held:
            _held[key][1] += 1
        try:
            yield path
        finally:
            if key in _held:
                _held[key][1] -= 1
        return
    if timeout is None:
        timeout = float(os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ProjectLocked(
                        f"{Path(translated)} is being translated by another process ({_holder(path)}); "
                        f"waited {timeout:g} s for its lock {path}",
                        f"wait for it to finish (or stop it) and retry; {LOCK_TIMEOUT_ENV}=SECONDS waits longer",
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {' '.join(_command())}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    _held[key] = [fd, 1]
    try:
        fault("locked")
        for note in recover(Path(translated).resolve()):  # what a holder killed before us left
            logger.info("seeknal: %s", note)
        yield path
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # releases the flock


def _command() -> t.List[str]:
    return [Path(sys.argv[0]).name, *sys.argv[1:3]] if sys.argv and sys.argv[0] else ["python"]


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "pid unknown"


# ---------------------------------------------------------------------- temporary folders and recovery


def temp_folders(translated: Path) -> t.List[Path]:
    """`.<name>.new-*` (staging) and `.<name>.old-*` (retired code) folders of a translated folder."""
    parent, name = translated.parent, translated.name
    if not parent.is_dir():
        return []
    prefixes = (f".{name}.new-", f".{name}.old-")
    return sorted(p for p in parent.iterdir() if p.name.startswith(prefixes) and p.is_dir() and not p.is_symlink())


def recover(translated: Path) -> t.List[str]:
    """Repair what an interrupted translation left (call with the lock held); returns what was done."""
    done: t.List[str] = []
    leftovers = temp_folders(translated)
    if not translated.exists():
        retired = [p for p in leftovers if ".old-" in p.name]
        if retired:  # killed between the two renames of the fallback swap: the previous code goes back
            newest = max(retired, key=lambda p: p.stat().st_mtime)
            os.rename(newest, translated)
            leftovers.remove(newest)
            done.append(f"restored {translated} from an interrupted translation")
    for folder in leftovers:
        if ".old-" in folder.name and translated.is_dir():
            rescue(folder, translated)
        shutil.rmtree(folder, ignore_errors=True)
        done.append(f"removed {folder.name}")
    return done


def rescue(retired: Path, translated: Path) -> None:
    """Move files users added to entries translation does not own (a test written during the swap) from the
    retired code into the translated folder, where nothing has that name."""
    for entry in retired.iterdir():
        if entry.name in Layout.OWNED or entry.name in Layout.LEGACY_DATA or entry.name in NOT_CARRIED:
            continue
        for path in [entry, *(entry.rglob("*") if entry.is_dir() and not entry.is_symlink() else [])]:
            if path.is_dir() and not path.is_symlink():
                continue
            target = translated / path.relative_to(retired)
            if not os.path.lexists(target):
                target.parent.mkdir(parents=True, exist_ok=True)
                os.rename(path, target)


# ---------------------------------------------------------------------- the layout before the data area


def migrate(translated: Path) -> t.List[str]:
    """Link the warehouse and state of the old layout (inside the translated folder) into the data area.

    Hard links: until the old code is retired both names are the same file, so the code in place at any instant
    finds its data. Never overwrites: data in both places is an error that says which files to compare.
    """
    data = Layout.data_dir(translated)
    moved = []
    for name in Layout.LEGACY_DATA:
        old, new = translated / name, data / name
        if not old.is_file() or old.is_symlink():
            continue
        if new.exists():
            if os.path.samefile(old, new):
                continue  # linked by an earlier, interrupted translation
            raise DataConflict(
                f"{old} (the layout before the data area) and {new} both exist; translating would hide one of them",
                f"keep the one you want in {data} and remove or rename the other, then translate again",
            )
        data.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old, new)
        except OSError:  # a file system without hard links
            shutil.copy2(old, new)
        moved.append(name)
    if moved:
        logger.warning(
            "seeknal: moved %s from %s into its data area %s (translation never replaces that folder)",
            ", ".join(moved),
            translated,
            data,
        )
    return moved


# ---------------------------------------------------------------------- the swap


def _link_tree(source: Path, target: Path) -> None:
    """`target` with the same files as `source`, as hard links (copies where links are impossible)."""
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir()
        for child in source.iterdir():
            _link_tree(child, target / child.name)
    else:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False when the system or file system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    if hasattr(libc, "renameat2"):  # Linux (glibc 2.28+)
        rc = libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2)  # AT_FDCWD, RENAME_EXCHANGE
    elif hasattr(libc, "renamex_np"):  # macOS
        rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), 2)  # RENAME_SWAP
    else:
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _keep_mtime_if_unchanged(previous: Path, written: Path, text: str) -> None:
    """A file whose content did not change keeps its previous mtime: SQLMesh's loader caches a parsed model under
    the newest mtime of its file (and of macros, audits, config), so unchanged models are not parsed again."""
    try:
        before = previous.stat()
        if before.st_size == written.stat().st_size and previous.read_text() == text:
            os.utime(written, ns=(before.st_atime_ns, before.st_mtime_ns))
    except (OSError, UnicodeDecodeError):
        pass  # no previous file (or unreadable): the new mtime stays


def publish(files: t.Dict[str, str], translated: Path) -> None:
    """Steps 1-6 of the module docstring: `files` become the translated folder's code; its data stays put."""
    translated = translated.resolve()
    translated.parent.mkdir(parents=True, exist_ok=True)
    with project_lock(translated):  # taking it first repairs what an interrupted translation left
        if translated.is_dir():
            migrate(translated)
            fault("migrated")
        Layout.data_dir(translated).mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{translated.name}.new-", dir=translated.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; the translated folder is an ordinary one
        retired = staging.with_name(staging.name.replace(".new-", ".old-", 1))
        try:
            for i, (rel, text) in enumerate(files.items()):
                if i == len(files) // 2:
                    fault("writing")
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
                _keep_mtime_if_unchanged(translated / rel, target, text)
            if translated.is_dir():
                for entry in sorted(translated.iterdir()):
                    skip = Layout.OWNED + Layout.LEGACY_DATA + NOT_CARRIED
                    if entry.name not in skip and not (staging / entry.name).exists():
                        _link_tree(entry, staging / entry.name)
            fault("staged")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if not translated.exists():
            os.rename(staging, translated)
            return
        if _exchange(staging, translated):
            fault("exchanged")
            os.rename(staging, retired)
        else:
            os.rename(translated, retired)
            fault("moved_out")
            try:
                os.rename(staging, translated)
            except BaseException:
                os.rename(retired, translated)
                shutil.rmtree(staging, ignore_errors=True)
                raise
        fault("retired")
        rescue(retired, translated)
        shutil.rmtree(retired, ignore_errors=True)
