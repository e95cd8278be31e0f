"""The StarRocks plugin plugs in: SQLMesh's `starrocks` classes are replaced only for projects with a StarRocks
gateway, and every module of the plugin imports on its own (no import cycle with the CLI or the core).

Registration is process-global, so each case runs in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seeknal_sqlmesh.translators import translate_project
from tests.helpers import orders_csv, write_project

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("adapter", "cli", "client", "connection", "ddl", "errors", "materialization", "plugin", "repl", "translate")
STARROCKS_PROFILE = "starrocks:\n  reporting:\n    host: localhost\n    port: 9030\n    user: root\n    password: ''\n"

# Loads the translated project's config as its config.py does (stock `sqlmesh` CLI with `--gateway` from argv), then
# prints which classes SQLMesh's registries hold for `starrocks`.
REGISTRIES = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from sqlmesh.core import engine_adapter
    from sqlmesh.core.config import connection
    from seeknal_sqlmesh.runtime.config import load_project_config

    config = load_project_config(Path(sys.argv[1]), argv=["sqlmesh", *sys.argv[2:]])
    print(json.dumps({
        "config": connection.CONNECTION_CONFIG_TO_TYPE["starrocks"].__name__,
        "adapter": engine_adapter.DIALECT_TO_ENGINE_ADAPTER["starrocks"].__name__,
        "gateways": {name: type(g.connection).__name__ for name, g in config.gateways.items()},
    }))
    """
)


def registries(project: Path, *argv: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", REGISTRIES, str(project), *argv], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def translated(tmp_path: Path, profile: str = "") -> Path:
    nodes = {"orders.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"}}
    files = {"data/orders.csv": orders_csv(), **({"profiles.yml": profile} if profile else {})}
    project = write_project(tmp_path / "p", nodes, files=files)
    out = tmp_path / "out"
    translate_project(project, out)
    return out


def test_a_project_without_starrocks_gateway_keeps_sqlmesh_classes(tmp_path):
    found = registries(translated(tmp_path))
    assert found["config"] == "StarRocksConnectionConfig"  # SQLMesh's built-in classes, untouched
    assert found["adapter"] == "StarRocksEngineAdapter"
    assert set(found["gateways"].values()) == {"DuckDBConnectionConfig"}


def test_a_project_with_a_starrocks_gateway_registers_ours(tmp_path):
    out = translated(tmp_path, STARROCKS_PROFILE)
    assert "type: starrocks" in (out / "settings.yaml").read_text()
    # the StarRocks gateway is not the default: not asked for, it is not configured and nothing is registered
    assert registries(out)["adapter"] == "StarRocksEngineAdapter"
    found = registries(out, "--gateway", "reporting")
    assert found["config"] == "SeeknalStarRocksConnectionConfig"
    assert found["adapter"] == "SeeknalStarRocksEngineAdapter"
    assert found["gateways"]["reporting"] == "SeeknalStarRocksConnectionConfig"


def test_registered_config_keeps_state_off_starrocks(tmp_path):
    """A hand-written StarRocks gateway without state_connection gets the project's DuckDB state file."""
    (tmp_path / "settings.yaml").write_text(
        "gateways:\n  sr:\n    connection: {type: starrocks, host: h, user: u, password: '', check_import: false}\n"
        "default_gateway: sr\nmodel_defaults: {dialect: duckdb}\n"
    )
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from seeknal_sqlmesh.runtime.config import load_project_config
        from seeknal_sqlmesh.starrocks.adapter import SeeknalStarRocksEngineAdapter

        gateway = load_project_config(Path(sys.argv[1]), argv=["sqlmesh"]).gateways["sr"]
        assert type(gateway.connection).__name__ == "SeeknalStarRocksConnectionConfig"
        assert gateway.connection._engine_adapter is SeeknalStarRocksEngineAdapter
        assert gateway.connection.is_forbidden_for_state_sync
        print(gateway.state_connection.database)
        """
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == str(tmp_path / "state.duckdb")


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first(module):
    """Imported first in a fresh interpreter, each module loads: no cycle between the plugin, the CLI and the core."""
    out = subprocess.run(
        [sys.executable, "-c", f"import seeknal_sqlmesh.starrocks.{module}"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr[-3000:]


def test_the_plugin_adds_its_commands():
    from seeknal_sqlmesh.cli import cli

    assert {"starrocks", "deploy-metrics", "repl"} <= set(cli.commands)
