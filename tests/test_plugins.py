"""The plugin interface: a plugin installed through the `seeknal_sqlmesh.plugins` entry point is picked up by the
CLI and by translation (its models, files and manifest section land in the output); the core imports no plugin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seeknal_sqlmesh import plugins
from seeknal_sqlmesh.contract import Manifest

MINI = Path(__file__).parent / "fixtures" / "mini"
PACKAGE = Path(__file__).parent / "fixtures" / "plugin_pkg"
CORE = ("project", "translators", "runtime", "macros")
PLUGIN_PACKAGES = ("features", "semantic", "starrocks", "iceberg", "serve")


def _install(site: Path) -> None:
    """A third-party package with its dist-info, as pip would leave it: importlib.metadata finds its entry point."""
    shutil.copytree(PACKAGE / "acme_seeknal", site / "acme_seeknal")
    info = site / "acme_seeknal-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-seeknal\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[seeknal_sqlmesh.plugins]\nacme = acme_seeknal.plugin:AcmePlugin\n")


@pytest.fixture
def installed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    monkeypatch.syspath_prepend(str(site))
    plugins.plugins.cache_clear()
    yield site
    plugins.plugins.cache_clear()
    for name in [m for m in sys.modules if m.startswith("acme_seeknal")]:
        del sys.modules[name]


def test_builtin_plugins_are_found():
    names = [p.name for p in plugins.plugins()]
    assert names[:3] == ["features", "semantic", "starrocks"]


def test_entry_point_plugin_is_picked_up(installed):
    names = [p.name for p in plugins.plugins()]
    assert "acme" in names


def test_entry_point_plugin_adds_a_command(installed):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-m", "seeknal_sqlmesh.cli", "acme-hello", "--name", "Ada"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello Ada from acme"


def test_entry_point_plugin_contributes_to_translation(installed, tmp_path):
    from seeknal_sqlmesh.translators import translate_project

    project = Path(shutil.copytree(MINI, tmp_path / "mini"))
    out = tmp_path / "out"
    result = translate_project(project, out)
    model = out / "models" / "acme" / "node_count.sql"
    assert model.is_file(), sorted(p.name for p in (out / "models").iterdir())
    assert "acme.node_count" in model.read_text()
    assert (out / "acme" / "README.txt").read_text() == f"{len(result.project.nodes)} nodes\n"
    section = Manifest.load(out).plugins["acme"]
    assert section == {"nodes": len(result.project.nodes)}


def test_a_plugin_name_used_twice_is_refused(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    entry = site / "acme_seeknal-1.0.dist-info" / "entry_points.txt"
    entry.write_text(entry.read_text() + "again = acme_seeknal.plugin:AcmePlugin\n")
    monkeypatch.syspath_prepend(str(site))
    plugins.plugins.cache_clear()
    try:
        with pytest.raises(plugins.PluginError, match="uses the name 'acme' of another plugin"):
            plugins.plugins()
    finally:
        plugins.plugins.cache_clear()
        for name in [m for m in sys.modules if m.startswith("acme_seeknal")]:
            del sys.modules[name]


def test_broken_entry_point_is_skipped_with_a_warning_naming_it(tmp_path, monkeypatch, caplog):
    site = tmp_path / "site"
    info = site / "broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[seeknal_sqlmesh.plugins]\nbroken = no_such_module.plugin:plugin\n")
    monkeypatch.syspath_prepend(str(site))
    plugins.plugins.cache_clear()
    try:
        names = [p.name for p in plugins.plugins()]
    finally:
        plugins.plugins.cache_clear()
    assert names == [ref.split(".")[1] for ref in plugins.BUILTIN]  # every built-in, and nothing of the broken one
    assert "'broken' (entry point)" in caplog.text and "no_such_module" in caplog.text


def _imports(path: Path) -> list:
    pattern = re.compile(r"^\s*(?:from|import)\s+seeknal_sqlmesh\.(\w+)", re.MULTILINE)
    return pattern.findall(path.read_text())


@pytest.mark.parametrize("core", CORE)
def test_core_imports_no_plugin(core):
    root = Path(plugins.__file__).parent / core
    offenders = [
        f"{p.relative_to(root.parent)} imports seeknal_sqlmesh.{m}"
        for p in sorted(root.rglob("*.py"))
        for m in _imports(p)
        if m in PLUGIN_PACKAGES
    ]
    assert offenders == []


def test_projects_without_starrocks_do_not_register_the_adapter(tmp_path):
    """Registration is process-global, so it is checked in a fresh interpreter per case."""
    from seeknal_sqlmesh.translators import translate_project

    project = Path(shutil.copytree(MINI, tmp_path / "mini"))
    translate_project(project, tmp_path / "out")
    probe = textwrap.dedent(
        f"""
        from pathlib import Path
        from sqlmesh.core.config import connection
        from seeknal_sqlmesh.runtime.config import load_project_config
        load_project_config(Path({str(tmp_path / "out")!r}))
        print(connection.CONNECTION_CONFIG_TO_TYPE["starrocks"].__module__)
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("sqlmesh."), out.stdout
