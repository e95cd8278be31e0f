"""The translator/plugin contract: the versioned manifest, the layout, and -p accepting either kind of project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from seeknal_sqlmesh.contract import MANIFEST_VERSION, ContractError, Layout, Manifest, find_project
from seeknal_sqlmesh.translators import translate_project

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture(scope="module")
def translated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("contract")
    project = Path(shutil.copytree(MINI, root / "mini"))
    translate_project(project, project / Layout.DEFAULT_OUTPUT)
    return project


def test_manifest_round_trips_through_the_model(translated):
    out = translated / Layout.DEFAULT_OUTPUT
    manifest = Manifest.load(out)
    assert manifest.version == MANIFEST_VERSION
    assert (out / Layout.MANIFEST).read_text() == manifest.to_json()
    assert (out / manifest.seeknal_project).resolve() == translated.resolve()
    assert all(entry.kind == node_id.split(".")[0] for node_id, entry in manifest.nodes.items())


def test_old_manifest_is_refused_with_a_message_to_translate_again(translated, tmp_path):
    out = Path(shutil.copytree(translated / Layout.DEFAULT_OUTPUT, tmp_path / "old"))
    data = json.loads((out / Layout.MANIFEST).read_text())
    del data["version"]  # the unversioned manifest of 0.1 had a top-level feature_store section
    data["feature_store"] = data.pop("plugins").get("features", {})
    (out / Layout.MANIFEST).write_text(json.dumps(data))
    with pytest.raises(ContractError) as error:
        Manifest.load(out)
    assert "manifest version 1" in error.value.message
    assert "translate the project again" in error.value.hint


def test_future_manifest_is_refused_too(translated, tmp_path):
    out = Path(shutil.copytree(translated / Layout.DEFAULT_OUTPUT, tmp_path / "future"))
    data = json.loads((out / Layout.MANIFEST).read_text())
    data["version"] = MANIFEST_VERSION + 1
    (out / Layout.MANIFEST).write_text(json.dumps(data))
    with pytest.raises(ContractError, match=f"manifest version {MANIFEST_VERSION + 1}"):
        Manifest.load(out)


def test_a_manifest_with_an_unknown_field_names_it(translated, tmp_path):
    out = Path(shutil.copytree(translated / Layout.DEFAULT_OUTPUT, tmp_path / "odd"))
    data = json.loads((out / Layout.MANIFEST).read_text())
    node = next(iter(data["nodes"]))
    data["nodes"][node]["colour"] = "blue"
    (out / Layout.MANIFEST).write_text(json.dumps(data))
    with pytest.raises(ContractError, match=rf"nodes\.{node}\.colour"):
        Manifest.load(out)


def test_find_project_accepts_the_seeknal_project_or_its_output(translated):
    from_seeknal = find_project(translated)
    from_output = find_project(translated / Layout.DEFAULT_OUTPUT)
    assert from_seeknal == from_output
    assert from_seeknal.seeknal == translated.resolve()
    assert from_seeknal.translated == (translated / Layout.DEFAULT_OUTPUT).resolve()


def test_find_project_says_what_to_do(tmp_path):
    project = Path(shutil.copytree(MINI, tmp_path / "fresh"))
    with pytest.raises(ContractError) as error:
        find_project(project)
    assert "has not been translated yet" in error.value.message and "seeknal translate" in error.value.hint
    with pytest.raises(ContractError, match="neither a Seeknal project"):
        find_project(tmp_path)
    with pytest.raises(ContractError, match="no such folder"):
        find_project(tmp_path / "missing")
