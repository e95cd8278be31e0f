"""Incremental translation: the render cache gives the bytes of a full translation, re-renders only what changed,
and a no-op `--check` answers from the recorded fingerprint; the rules' reachability check is one pass."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.synthetic import write_synthetic_project
from seeknal_sqlmesh import fingerprint
from seeknal_sqlmesh.cli import cli
from seeknal_sqlmesh.translators import translate_project
from seeknal_sqlmesh.translators.assemble import Reachability
from seeknal_sqlmesh.translators.cache import RENDER_FILE

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project"


def tree(root: Path) -> t.Dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def from_scratch(project: Path, scratch: Path, name: str = "out") -> t.Dict[str, str]:
    """A translation without the cache, into a folder of the same name (the settings name the data area by it)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    translate_project(project, scratch / name, cache=False)
    return tree(scratch / name)


def test_sample_project_from_cache_is_byte_identical(tmp_path):
    project = Path(shutil.copytree(SAMPLE, tmp_path / "proj", ignore=shutil.ignore_patterns("target")))
    out = tmp_path / "a" / "out"
    first = translate_project(project, out)
    assert first.reused == 0 and first.rendered > 20
    second = translate_project(project, out)
    assert second.rendered == 0 and second.reused == first.rendered  # every SQL model came from the cache
    assert tree(out) == from_scratch(project, tmp_path / "b")


def test_synthetic_project_edit_rerenders_only_the_edited_node(tmp_path):
    project = write_synthetic_project(tmp_path / "proj", 150)
    out = tmp_path / "a" / "out"
    first = translate_project(project, out)
    edited = next(p for p in sorted((project / "seeknal" / "transforms").glob("t_*.yml")))
    edited.write_text(re.sub(r"amount > \d+", "amount > 42", edited.read_text()))
    again = translate_project(project, out)
    assert again.rendered == 1 and again.reused == first.rendered - 1
    assert "amount > 42" in (out / "models" / "transform" / f"{edited.stem}.sql").read_text()
    assert tree(out) == from_scratch(project, tmp_path / "b")


def test_unreadable_or_foreign_cache_is_ignored(tmp_path):
    project = write_synthetic_project(tmp_path / "proj", 40)
    out = tmp_path / "a" / "out"
    translate_project(project, out)
    cache_file = fingerprint.translation_cache(out) / RENDER_FILE
    data = json.loads(cache_file.read_text())
    data["salt"] = "another version"
    cache_file.write_text(json.dumps(data))
    assert translate_project(project, out).reused == 0  # another salt: nothing reused
    cache_file.write_text("{not json")
    result = translate_project(project, out)
    assert result.reused == 0 and result.rendered > 0
    assert tree(out) == from_scratch(project, tmp_path / "b")


# random edits: the incremental translation after each is the from-scratch one --------------------------------

EDITS = ("threshold", "description", "rule", "add", "remove_rule")


def apply_edit(project: Path, kind: str, pick: int, value: int) -> None:
    base = project / "seeknal"
    if kind == "threshold":
        files = sorted((base / "transforms").glob("t_*.yml"))
        path = files[pick % len(files)]
        path.write_text(re.sub(r"amount > \d+", f"amount > {value}", path.read_text()))
    elif kind == "description":
        files = sorted((base / "sources").glob("*.yml"))
        path = files[pick % len(files)]
        path.write_text(re.sub(r"description: .*", f"description: copy {value}", path.read_text()))
    elif kind == "rule":
        files = sorted((base / "rules").glob("*.yml"))
        if files:
            path = files[pick % len(files)]
            path.write_text(re.sub(r"max_val: \d+", f"max_val: {value}", path.read_text()))
    elif kind == "add":
        files = sorted((base / "transforms").glob("*.yml"))
        upstream = f"transform.{files[pick % len(files)].stem}"
        (base / "transforms" / f"added_{pick}_{value}.yml").write_text(
            f"kind: transform\nname: added_{pick}_{value}\ninputs:\n- ref: {upstream}\n"
            f"transform: SELECT customer_id, amount * {value} AS amount FROM ref('{upstream}')\n"
        )
    elif kind == "remove_rule":
        files = sorted((base / "rules").glob("*.yml"))
        if files:
            files[pick % len(files)].unlink()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, 1000), st.integers(1, 99_999)), min_size=1, max_size=4
    ),
    seed=st.integers(0, 50),
)
def test_random_edits_translate_incrementally_as_from_scratch(tmp_path, edits, seed):
    work = tmp_path / f"w{random.getrandbits(40)}"
    project = write_synthetic_project(work / "proj", 60, seed=seed)
    out = work / "a" / "out"
    translate_project(project, out)
    for kind, pick, value in edits:
        apply_edit(project, kind, pick, value)
        translate_project(project, out)
    assert tree(out) == from_scratch(project, work / "b")
    shutil.rmtree(work)


# no-op --check --------------------------------------------------------------------------------------------------

CHECK_SCRIPT = """
import sys
from seeknal_sqlmesh.cli import cli
try:
    cli(sys.argv[1:])
except SystemExit as e:
    code = e.code
print("loaded:", sorted(m for m in ("sqlmesh", "sqlglot", "seeknal_sqlmesh.translators") if m in sys.modules))
sys.exit(code)
"""


def run_check(project: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CHECK_SCRIPT, "translate", str(project), "-o", str(out), "--check", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "true"},
    )


def test_noop_check_answers_without_translating(tmp_path):
    project = write_synthetic_project(tmp_path / "proj", 40)
    out = tmp_path / "out"
    assert CliRunner().invoke(cli, ["translate", str(project), "-o", str(out), "-q"]).exit_code == 0
    done = run_check(project, out)
    assert done.returncode == 0, done.stderr
    assert "is up to date" in done.stdout and "loaded: []" in done.stdout  # neither SQLMesh nor sqlglot loaded

    # an option the record was not made with: translated in full (and up to date here: --start is in settings.yaml)
    other = run_check(project, out, "--start", "2020-01-01")
    assert other.returncode == 1 and "settings.yaml" in other.stderr and "'sqlglot'" in other.stdout


@pytest.mark.parametrize(
    "change", ["edit_input", "add_input", "add_hidden_input", "edit_output", "add_output", "remove_output"]
)
def test_check_sees_every_change(tmp_path, change):
    project = write_synthetic_project(tmp_path / "proj", 40)
    out = tmp_path / "out"
    translate_project(project, out)
    options = fingerprint.translate_options(None, None, None, None, "2000-01-01")
    assert fingerprint.unchanged(project, out, options) is not None
    some_model = sorted((out / "models" / "transform").glob("*.sql"))[0]
    if change == "edit_input":
        path = sorted((project / "seeknal" / "transforms").glob("t_*.yml"))[0]
        path.write_text(re.sub(r"amount > \d+", "amount > 77", path.read_text()))
    elif change == "add_input":
        (project / "seeknal" / "sources" / "extra.yml").write_text(
            "kind: source\nname: extra\nsource: csv\ntable: data/orders.csv\n"
        )
    elif change == "add_hidden_input":  # the loader reads seeknal/**/*.yml, hidden folders too
        (project / "seeknal" / ".drafts").mkdir()
        (project / "seeknal" / ".drafts" / "extra.yml").write_text(
            "kind: source\nname: extra\nsource: csv\ntable: data/orders.csv\n"
        )
    elif change == "edit_output":
        some_model.write_text(some_model.read_text() + "-- edited\n")
    elif change == "add_output":
        (out / "models" / "transform" / "mine.sql").write_text("SELECT 1\n")
    else:
        some_model.unlink()
    assert fingerprint.unchanged(project, out, options) is None
    assert run_check(project, out).returncode == 1


def test_check_after_a_full_check_that_found_nothing_is_fast(tmp_path):
    project = write_synthetic_project(tmp_path / "proj", 30)
    out = tmp_path / "out"
    translate_project(project, out)
    fingerprint.inputs_path(out).unlink()
    options = fingerprint.translate_options(None, None, None, None, "2000-01-01")
    assert fingerprint.unchanged(project, out, options) is None
    assert translate_project(project, out, check=True).stale == []  # records what it compared
    assert fingerprint.unchanged(project, out, options) is not None


# the rules' reachability ----------------------------------------------------------------------------------------


class FakeProject:
    def __init__(self, edges: t.Dict[str, t.List[str]], order: t.List[str]) -> None:
        self.edges, self.order = edges, order

    def downstream(self, node_id: str) -> t.List[str]:
        return sorted(c for c, ups in self.edges.items() if node_id in ups)


def descendants(project: FakeProject, node_id: str) -> t.Set[str]:
    seen: t.Set[str] = set()
    frontier = [node_id]
    while frontier:
        for child in project.downstream(frontier.pop()):
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return seen


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 30), st.data())
def test_reachability_matches_a_walk_of_descendants(size, data):
    order = [f"n{i}" for i in range(size)]
    edges = {
        node: sorted(set(data.draw(st.lists(st.sampled_from(order[:i]), max_size=3)))) if i else []
        for i, node in enumerate(order)
    }
    project = FakeProject(edges, order)
    wanted = data.draw(st.lists(st.sampled_from(order), max_size=size))
    reach = Reachability(project, wanted)  # type: ignore[arg-type]
    for ancestor in order:
        below = descendants(project, ancestor)
        for node in wanted:
            assert reach.built_from(node, ancestor) == (node in below)


def test_rule_against_a_descendant_of_its_target_is_refused(tmp_path):
    from seeknal_sqlmesh.errors import ProjectError

    project = write_synthetic_project(tmp_path / "proj", 20)
    t_files = sorted((project / "seeknal" / "transforms").glob("t_*.yml"))
    child = next(p for p in t_files if "- ref: source." not in p.read_text())
    parent = re.search(r"- ref: (\S+)", child.read_text()).group(1)  # type: ignore[union-attr]
    (project / "seeknal" / "rules" / "cross.yml").write_text(
        f"kind: rule\nname: cross\ninputs:\n- ref: {parent}\n- ref: transform.{child.stem}\n"
        "rule:\n  type: sql_assertion\n"
        f"  sql: SELECT * FROM input_data WHERE amount > (SELECT MAX(amount) FROM transform_{child.stem})\n"
    )
    with pytest.raises(ProjectError, match="which is built from it"):
        translate_project(project, tmp_path / "out")
