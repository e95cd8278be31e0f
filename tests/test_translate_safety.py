"""Generated code apart from data: the data area, the project lock, kill -9 at every phase of a translation,
leftover temporary folders, and the one-time move of the layout before the data area.

A translation is killed on purpose with `SEEKNAL_TRANSLATE_FAULT=<phase>` (translators/publish.py): for every phase
the translated folder must hold the complete previous or the complete new code, the warehouse, the state and the
user's tests must be byte-identical, and the next translation must succeed and leave no temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import time
import typing as t
from pathlib import Path

import pytest

from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.translators import translate_project
from seeknal_sqlmesh.translators.publish import FAULT_ENV, FAULT_PHASES, temp_folders
from tests.helpers import orders_csv, write_project

ROOT = Path(__file__).resolve().parent.parent
TRANSFORM = "SELECT customer_id, SUM(amount) AS total FROM ref('source.orders') GROUP BY customer_id"
DATA = {Layout.WAREHOUSE: b"warehouse bytes \x00\x01" * 1000, Layout.STATE: b"state bytes \x02" * 500}
USER_TEST = "tests/test_totals.yaml"
# what a phase leaves in place when the process dies there (the swap is the one instant that changes it)
AFTER_SWAP = {"exchanged", "retired"}
EXCHANGE_PHASES = [p for p in FAULT_PHASES if p != "moved_out"]  # moved_out exists only in the fallback swap


def project(root: Path, transform: str = TRANSFORM) -> Path:
    return write_project(
        root,
        {
            "sources/orders.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "data/o.csv"},
            "transforms/totals.yml": {
                "kind": "transform",
                "name": "totals",
                "inputs": [{"ref": "source.orders"}],
                "transform": transform,
            },
        },
        files={"data/o.csv": orders_csv()},
    )


def code_digest(out: Path) -> t.Dict[str, str]:
    """sha256 of every generated file (what translation owns)."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for entry in Layout.OWNED
        for p in sorted([out / entry] if (out / entry).is_file() else (out / entry).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def seeknal(*args: t.Union[str, Path], env: t.Optional[t.Dict[str, str]] = None, patch: str = "") -> subprocess.Popen:
    """`seeknal ARGS` in a subprocess; `patch` is Python run first (to force the fallback swap)."""
    script = f"import sys\n{patch}\nfrom seeknal_sqlmesh.cli import main\nsys.argv = ['seeknal', *sys.argv[1:]]\nmain()"
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def versions(tmp_path_factory) -> t.Dict[str, t.Dict[str, str]]:
    """The complete code of the old and of the new translation (what every phase must leave one of)."""
    root = tmp_path_factory.mktemp("versions")
    old = project(root / "old" / "proj")
    new = project(root / "new" / "proj", TRANSFORM.replace("SUM(amount)", "SUM(amount) * 2"))
    translate_project(old, root / "old" / "out")
    translate_project(new, root / "new" / "out")
    return {"old": code_digest(root / "old" / "out"), "new": code_digest(root / "new" / "out")}


def prepared(root: Path) -> t.Tuple[Path, Path]:
    """A project translated once, with data in its data area and a test of the user's; then changed."""
    proj = project(root / "proj")
    out = root / "out"
    translate_project(proj, out)
    for name, data in DATA.items():
        (Layout.data_dir(out) / name).write_bytes(data)
    (out / USER_TEST).parent.mkdir()
    (out / USER_TEST).write_text("test_totals: {model: transform.totals}\n")
    (proj / "seeknal/transforms/totals.yml").write_text(
        (proj / "seeknal/transforms/totals.yml").read_text().replace("SUM(amount)", "SUM(amount) * 2")
    )
    return proj, out


def assert_intact(out: Path, versions: t.Dict[str, t.Dict[str, str]], expected: str) -> None:
    assert code_digest(out) == versions[expected], f"the translated folder does not hold the complete {expected} code"
    for name, data in DATA.items():
        assert (Layout.data_dir(out) / name).read_bytes() == data, name
    assert (out / USER_TEST).read_text() == "test_totals: {model: transform.totals}\n"


def test_settings_point_at_the_data_area(tmp_path):
    proj = project(tmp_path / "proj")
    out = tmp_path / "build" / "sample"
    translate_project(proj, out)
    from seeknal_sqlmesh.runtime import config

    loaded = config.load_project_config(out, argv=["sqlmesh"])
    data = tmp_path / "build" / "sample.data"
    assert loaded.gateways["duckdb"].connection.database == str(data / "warehouse.duckdb")
    assert loaded.gateways["duckdb"].state_connection.database == str(data / "state.duckdb")
    assert loaded.cache_dir == str(data / "cache")
    assert config.data_dir() == data
    assert not [p for p in out.iterdir() if p.name not in Layout.OWNED]  # nothing but generated code in the folder


def test_kill_at_every_phase_keeps_old_or_new_code_and_the_data(tmp_path, versions):
    runs = {}
    for phase in EXCHANGE_PHASES:  # killed in parallel: one private copy per phase
        proj, out = prepared(tmp_path / phase)
        runs[phase] = (out, seeknal("translate", proj, "-o", out, "-q", env={FAULT_ENV: phase}))
    for phase, (out, proc) in runs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -9, f"{phase}: not killed (rc {proc.returncode}): {err[-2000:]}"
        assert_intact(out, versions, "new" if phase in AFTER_SWAP else "old")
    again = {phase: seeknal("translate", out.parent / "proj", "-o", out, "-q") for phase, (out, _) in runs.items()}
    for phase, proc in again.items():
        out = runs[phase][0]
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{phase}: {err[-2000:]}"
        assert_intact(out, versions, "new")
        assert temp_folders(out) == [], f"{phase}: leftovers {temp_folders(out)}"


def legacy(out: Path) -> None:
    """Turn a translated folder into the layout before the data area: data inside it, settings pointing there."""
    import yaml

    for name, data in DATA.items():
        (Layout.data_dir(out) / name).unlink(missing_ok=True)
        (out / name).write_bytes(data)
    settings = yaml.safe_load((out / Layout.SETTINGS).read_text())
    for key in (Layout.DATA_DIR_KEY, "cache_dir"):
        settings.pop(key)
    settings["gateways"]["duckdb"] = {
        "connection": {"type": "duckdb", "database": Layout.WAREHOUSE},
        "state_connection": {"type": "duckdb", "database": Layout.STATE},
    }
    (out / Layout.SETTINGS).write_text(yaml.safe_dump(settings, sort_keys=False))


def test_kill_while_moving_from_the_old_layout_keeps_the_data_where_the_code_looks(tmp_path, versions):
    runs = {}
    for phase in EXCHANGE_PHASES:
        proj, out = prepared(tmp_path / phase)
        legacy(out)
        runs[phase] = (out, code_digest(out), seeknal("translate", proj, "-o", out, "-q", env={FAULT_ENV: phase}))
    for phase, (out, old_code, proc) in runs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == -9, f"{phase}: not killed (rc {proc.returncode}): {err[-2000:]}"
        swapped = phase in AFTER_SWAP
        assert code_digest(out) == (versions["new"] if swapped else old_code), phase
        for name, data in DATA.items():  # where the code in place reads it
            assert ((Layout.data_dir(out) if swapped else out) / name).read_bytes() == data, (phase, name)
    again = {phase: seeknal("translate", out.parent / "proj", "-o", out, "-q") for phase, (out, _, _) in runs.items()}
    for phase, proc in again.items():
        out = runs[phase][0]
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{phase}: {err[-2000:]}"
        assert_intact(out, versions, "new")
        assert not [n for n in Layout.LEGACY_DATA if (out / n).exists()] and temp_folders(out) == []


def test_kill_inside_the_fallback_swap_is_repaired_by_the_next_run(tmp_path, versions):
    """Without an atomic exchange (neither renameat2 nor renamex_np), two renames leave a gap: the next run puts the
    previous code back before doing anything else."""
    proj, out = prepared(tmp_path)
    patch = "import seeknal_sqlmesh.translators.publish as p; p._exchange = lambda a, b: False"
    proc = seeknal("translate", proj, "-o", out, "-q", env={FAULT_ENV: "moved_out"}, patch=patch)
    proc.communicate(timeout=120)
    assert proc.returncode == -9 and not out.exists()
    for name, data in DATA.items():  # the data area is not part of any swap
        assert (Layout.data_dir(out) / name).read_bytes() == data
    proc = seeknal("translate", proj, "-o", out, "-q", patch=patch)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert_intact(out, versions, "new")
    assert temp_folders(out) == []


def test_two_translations_at_once_both_finish(tmp_path, versions):
    proj, out = prepared(tmp_path)
    procs = [seeknal("translate", proj, "-o", out, "-q") for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert_intact(out, versions, "new")
    assert temp_folders(out) == []


def hold_lock(out: Path) -> subprocess.Popen:
    """Another process holding the project's lock (until killed)."""
    script = textwrap.dedent(
        """
        import sys, time
        from seeknal_sqlmesh.translators.publish import project_lock
        with project_lock(sys.argv[1]):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script, str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_held_lock_fails_clearly_naming_the_holder(tmp_path):
    proj, out = prepared(tmp_path)
    holder = hold_lock(out)
    try:
        started = time.monotonic()
        proc = seeknal("translate", proj, "-o", out, "-q", env={"SEEKNAL_LOCK_TIMEOUT": "0.5"})
        _, err = proc.communicate(timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2, err
    assert f"is being translated by another process (pid {holder.pid}" in err and "hint:" in err
    assert "Traceback" not in err and time.monotonic() - started < 30
    proc = seeknal("translate", proj, "-o", out, "-q")  # the kernel released the killed holder's lock
    assert proc.wait(timeout=120) == 0


def test_the_translation_inside_seeknal_plan_takes_the_same_lock(tmp_path, monkeypatch):
    from seeknal_sqlmesh.contract import ProjectPaths
    from seeknal_sqlmesh.translators.publish import ProjectLocked
    from seeknal_sqlmesh.workflow.plan import translate_changes

    proj, out = prepared(tmp_path)
    monkeypatch.setenv("SEEKNAL_LOCK_TIMEOUT", "0.3")
    holder = hold_lock(out)
    try:
        with pytest.raises(ProjectLocked, match=f"pid {holder.pid}"):
            translate_changes(ProjectPaths(translated=out, seeknal=proj))
    finally:
        holder.kill()
        holder.wait()
    assert translate_changes(ProjectPaths(translated=out, seeknal=proj)) == ["models/transform/totals.sql"]


def test_seeknal_plan_cleans_up_after_a_killed_translation_even_when_nothing_changed(tmp_path, versions):
    from seeknal_sqlmesh.contract import ProjectPaths
    from seeknal_sqlmesh.workflow.plan import translate_changes

    proj, out = prepared(tmp_path)
    proc = seeknal("translate", proj, "-o", out, "-q", env={FAULT_ENV: "retired"})
    proc.communicate(timeout=120)
    assert proc.returncode == -9 and temp_folders(out)  # the new code is in place, the retired one left behind
    assert translate_changes(ProjectPaths(translated=out, seeknal=proj)) == []  # up to date: nothing written
    assert temp_folders(out) == []
    assert_intact(out, versions, "new")


def test_unchanged_files_keep_their_mtime(tmp_path):
    """SQLMesh's loader cache keys parsed models on file mtimes: a re-translation must not invalidate it for the
    models that did not change."""
    proj, out = prepared(tmp_path)  # totals.yml changed after the first translation
    unchanged, changed = out / "models/source/orders.sql", out / "models/transform/totals.sql"
    past = time.time_ns() - 3_600_000_000_000
    for path in (unchanged, changed):
        os.utime(path, ns=(past, past))
    translate_project(proj, out)
    assert unchanged.stat().st_mtime_ns == past
    assert changed.stat().st_mtime_ns > past


def test_lock_is_reentrant_in_one_process(tmp_path):
    from seeknal_sqlmesh.translators.publish import project_lock

    proj = project(tmp_path / "proj")
    with project_lock(tmp_path / "out"):
        translate_project(proj, tmp_path / "out")  # takes the same lock again: no self-deadlock
    assert (tmp_path / "out" / Layout.SETTINGS).is_file()


def test_leftover_temporary_folders_are_removed_by_the_next_run(tmp_path):
    proj = project(tmp_path / "proj")
    out = tmp_path / "out"
    translate_project(proj, out)
    (tmp_path / ".out.new-abc123" / "models").mkdir(parents=True)
    (tmp_path / ".out.old-def456" / "tests").mkdir(parents=True)
    (tmp_path / ".out.old-def456" / "tests" / "test_late.yaml").write_text("written during the swap\n")
    (tmp_path / ".other.new-xyz").mkdir()  # another folder's: not ours
    translate_project(proj, out)
    assert temp_folders(out) == [] and (tmp_path / ".other.new-xyz").is_dir()
    # a test written into the retired folder while the swap ran is moved back, not deleted
    assert (out / "tests" / "test_late.yaml").read_text() == "written during the swap\n"


def test_layout_before_the_data_area_is_moved_once(tmp_path):
    proj = project(tmp_path / "proj")
    out = tmp_path / "out"
    translate_project(proj, out)
    for name, data in DATA.items():  # what an older seeknal-sqlmesh left: data inside the translated folder
        (out / name).write_bytes(data)
    (out / f"{Layout.WAREHOUSE}.wal").write_bytes(b"wal")
    (out / ".cache").mkdir()
    proc = seeknal("translate", proj, "-o", out)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "moved warehouse.duckdb, warehouse.duckdb.wal, state.duckdb" in err and str(Layout.data_dir(out)) in err
    for name, data in {**DATA, f"{Layout.WAREHOUSE}.wal": b"wal"}.items():
        assert (Layout.data_dir(out) / name).read_bytes() == data and not (out / name).exists()
    assert not (out / ".cache").exists()


def test_data_in_both_layouts_is_refused(tmp_path):
    proj = project(tmp_path / "proj")
    out = tmp_path / "out"
    translate_project(proj, out)
    (out / Layout.WAREHOUSE).write_bytes(b"old layout")
    (Layout.data_dir(out) / Layout.WAREHOUSE).write_bytes(b"data area")
    from seeknal_sqlmesh.translators.publish import DataConflict

    with pytest.raises(DataConflict, match="both exist"):
        translate_project(proj, out)
    assert (out / Layout.WAREHOUSE).read_bytes() == b"old layout"
    assert (Layout.data_dir(out) / Layout.WAREHOUSE).read_bytes() == b"data area"


def test_a_planned_project_of_the_old_layout_keeps_its_state(tmp_path):
    """Warehouse and state inside the translated folder (before the data area): the next translation moves them,
    and SQLMesh finds prod as it was: nothing to plan, the rows still there."""
    import yaml
    from sqlmesh import Context

    proj = project(tmp_path / "proj")
    out = tmp_path / "out"
    translate_project(proj, out)
    ctx = Context(paths=str(out))
    ctx.plan("prod", no_prompts=True, auto_apply=True)
    ctx.close()
    for name in Layout.LEGACY_DATA:  # rewrite it into the old layout
        if (Layout.data_dir(out) / name).exists():
            os.rename(Layout.data_dir(out) / name, out / name)
    settings = yaml.safe_load((out / Layout.SETTINGS).read_text())
    for key in (Layout.DATA_DIR_KEY, "cache_dir"):
        settings.pop(key)
    settings["gateways"]["duckdb"] = {
        "connection": {"type": "duckdb", "database": Layout.WAREHOUSE},
        "state_connection": {"type": "duckdb", "database": Layout.STATE},
    }
    (out / Layout.SETTINGS).write_text(yaml.safe_dump(settings, sort_keys=False))

    translate_project(proj, out)
    assert not (out / Layout.WAREHOUSE).exists() and (Layout.data_dir(out) / Layout.WAREHOUSE).is_file()
    ctx = Context(paths=str(out))
    try:
        plan = ctx.plan("prod", no_prompts=True, auto_apply=True)
        assert not plan.has_changes and not plan.new_snapshots
        assert ctx.fetchdf("SELECT COUNT(*) AS n FROM transform.totals")["n"][0] == 2
    finally:
        ctx.close()
