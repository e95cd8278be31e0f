"""`seeknal translate`: exit codes, nothing written on errors, --check, determinism and atomic replacement."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from seeknal_sqlmesh.cli import cli
from seeknal_sqlmesh.errors import ProjectError
from seeknal_sqlmesh.translators import translate_project
from tests.helpers import orders_csv, write_project

MINI = Path(__file__).parent / "fixtures" / "mini"


def tree_digest(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def mini(tmp_path) -> Path:
    return Path(shutil.copytree(MINI, tmp_path / "mini"))


def test_translate_writes_a_sqlmesh_project(mini, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["translate", str(mini), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Translated 8 Seeknal nodes into 7 SQLMesh models" in result.output  # + the entity view feature_store.entity_customer
    files = tree_digest(out)
    assert {"config.py", "settings.yaml", "macros/seeknal.py", "models/transform/orders_clean.sql",
            "models/transform/big_orders.py", "audits/transform__orders_clean.sql", "seeknal/manifest.json"} <= set(files)


def test_translation_is_deterministic(mini, tmp_path):
    # same folder name at the same depth: the settings name the data area beside the folder (../out.data)
    translate_project(mini, tmp_path / "a" / "out")
    translate_project(mini, tmp_path / "b" / "out")
    first = tree_digest(tmp_path / "a" / "out")
    assert first == tree_digest(tmp_path / "b" / "out")
    translate_project(mini, tmp_path / "a" / "out")
    assert tree_digest(tmp_path / "a" / "out") == first


def test_check_reports_stale_output(mini, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["translate", str(mini), "-o", str(out), "--check"]).exit_code == 1  # nothing there yet
    assert not out.exists()
    assert runner.invoke(cli, ["translate", str(mini), "-o", str(out), "-q"]).exit_code == 0
    assert runner.invoke(cli, ["translate", str(mini), "-o", str(out), "--check"]).exit_code == 0
    node = mini / "seeknal/transforms/orders_clean.yml"
    node.write_text(node.read_text().replace("amountCol}}, 0)", "amountCol}}, 1)"))
    result = runner.invoke(cli, ["translate", str(mini), "-o", str(out), "--check"])
    assert result.exit_code == 1 and "models/transform/orders_clean.sql" in result.output
    (out / "models/transform/leftover.sql").write_text("-- from an older translation")
    node.write_text(node.read_text().replace("amountCol}}, 1)", "amountCol}}, 0)"))
    result = runner.invoke(cli, ["translate", str(mini), "-o", str(out), "--check"])
    assert result.exit_code == 1 and "leftover.sql" in result.output


def test_bad_project_exits_2_lists_all_problems_and_keeps_previous_output(mini, tmp_path):
    out = tmp_path / "out"
    translate_project(mini, out)
    (out / "warehouse.duckdb").write_bytes(b"pretend state")
    before = tree_digest(out)
    (mini / "seeknal/transforms/bad_sql.yml").write_text(
        "kind: transform\nname: bad_sql\ninputs: [{ref: source.orders}]\ntransform: SELECT FROM WHERE ((\n")
    (mini / "seeknal/transforms/bad_ref.yml").write_text(
        "kind: transform\nname: bad_ref\ninputs: [{ref: source.orders}]\ntransform: SELECT * FROM ref('source.nope')\n")
    (mini / "seeknal/transforms/no_sql.yml").write_text("kind: transform\nname: no_sql\n")
    result = CliRunner().invoke(cli, ["translate", str(mini), "-o", str(out)])
    assert result.exit_code == 2
    text = result.output
    assert "seeknal/transforms/bad_sql.yml: node 'transform.bad_sql', field 'transform': SQL does not parse" in text
    assert "seeknal/transforms/bad_ref.yml: node 'transform.bad_ref', field 'transform': ref('source.nope') is not listed in inputs" in text
    assert "seeknal/transforms/no_sql.yml: node 'transform.no_sql', field 'transform': missing required field 'transform'" in text
    assert tree_digest(out) == before


def test_failure_during_write_leaves_previous_output(mini, tmp_path, monkeypatch):
    from seeknal_sqlmesh.translators import publish

    out = tmp_path / "out"
    translate_project(mini, out)
    (out.parent / "out.data" / "warehouse.duckdb").write_bytes(b"state that must survive")
    (out / "tests").mkdir()
    (out / "tests" / "test_mine.yaml").write_text("a test of the user's\n")
    before = tree_digest(out), tree_digest(out.parent / "out.data")
    real_rename = publish.os.rename

    def flaky_rename(src, dst):
        if Path(dst).name == "out" and Path(src).name.startswith(".out.new-"):  # the final swap fails
            raise OSError("disk full")
        return real_rename(src, dst)

    monkeypatch.setattr(publish, "_exchange", lambda a, b: False)  # the fallback swap: two renames
    monkeypatch.setattr(publish.os, "rename", flaky_rename)
    node = mini / "seeknal/transforms/orders_clean.yml"
    node.write_text(node.read_text().replace("amountCol}}, 0)", "amountCol}}, 1)"))
    with pytest.raises(OSError):
        translate_project(mini, out)
    monkeypatch.undo()
    assert (tree_digest(out), tree_digest(out.parent / "out.data")) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging folders left behind


def test_state_files_survive_retranslation(mini, tmp_path):
    out = tmp_path / "out"
    translate_project(mini, out)
    (tmp_path / "out.data" / "warehouse.duckdb").write_bytes(b"state")
    (out / "logs").mkdir()
    (out / "logs" / "sqlmesh.log").write_text("a log")
    translate_project(mini, out)
    assert (tmp_path / "out.data" / "warehouse.duckdb").read_bytes() == b"state"
    assert (out / "logs" / "sqlmesh.log").read_text() == "a log"


def test_unknown_kind_and_missing_field_collected(tmp_path):
    write_project(tmp_path / "p", {
        "a.yml": {"kind": "widget", "name": "x"},
        "b.yml": {"kind": "aggregation", "name": "agg", "id_col": "c"},
    }, files={"data/o.csv": orders_csv()})
    with pytest.raises(ProjectError) as err:
        translate_project(tmp_path / "p", tmp_path / "out")
    fields = {(p.node, p.field) for p in err.value.problems}
    assert ("widget.x", "kind") in fields
    assert {("aggregation.agg", "feature_date_col"), ("aggregation.agg", "application_date_col"), ("aggregation.agg", "features")} <= fields
    assert not (tmp_path / "out").exists()


def test_parallel_rendering_writes_the_same_files(mini, tmp_path, monkeypatch):
    from seeknal_sqlmesh.translators import output

    translate_project(mini, tmp_path / "serial" / "out")
    monkeypatch.setattr(output, "PARALLEL_RENDER_MIN_MODELS", 1)  # force forked workers even for a tiny project
    monkeypatch.setattr(output, "PARALLEL_RENDER_MIN_CORES", 2)  # and on a machine of 2 cores
    monkeypatch.setattr(output, "cores_busy", lambda cores: False)  # however busy it is
    translate_project(mini, tmp_path / "parallel" / "out")
    assert tree_digest(tmp_path / "parallel" / "out") == tree_digest(tmp_path / "serial" / "out")


def test_translation_keeps_the_users_unit_tests(mini, tmp_path):
    """`seeknal create-test` writes SQLMesh unit tests into the translated project's tests/: translation keeps them,
    and `--check` does not call them stale."""
    out = tmp_path / "out"
    translate_project(mini, out)
    test_file = out / "tests" / "test_orders_clean.yaml"
    test_file.parent.mkdir()
    test_file.write_text("test_orders_clean:\n  model: transform.orders_clean\n")
    translate_project(mini, out)
    assert test_file.read_text() == "test_orders_clean:\n  model: transform.orders_clean\n"
    assert translate_project(mini, out, check=True).stale == []
