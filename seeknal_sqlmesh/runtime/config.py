"""Load a translated project's `settings.yaml` into a SQLMesh `Config`.

Translated projects use a tiny `config.py` that calls `load_project_config(Path(__file__).parent)`, because a
YAML config cannot anchor relative paths: DuckDB would otherwise open `warehouse.duckdb` in whatever folder
`sqlmesh` was started from. Importing this package also registers seeknal-sqlmesh's engine plugins.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from sqlmesh.core.config import Config
from sqlmesh.core.config.loader import load_config_from_yaml

SETTINGS_FILE = "settings.yaml"
PROJECT_DIR_ENV = "SEEKNAL_SQLMESH_PROJECT_DIR"  # lets generated Python models find files next to the project
_PATH_KEYS = ("database",)


def _anchor_paths(connection: t.Optional[t.Dict[str, t.Any]], root: Path) -> None:
    if not connection or connection.get("type") != "duckdb":
        return
    for key in _PATH_KEYS:
        value = connection.get(key)
        if isinstance(value, str) and value not in ("", ":memory:") and not Path(value).is_absolute():
            connection[key] = str((root / value).resolve())


def load_project_config(root: Path) -> Config:
    root = Path(root).resolve()
    os.environ[PROJECT_DIR_ENV] = str(root)
    settings = load_config_from_yaml(root / SETTINGS_FILE)
    for gateway in (settings.get("gateways") or {}).values():
        for key in ("connection", "state_connection", "test_connection"):
            _anchor_paths(gateway.get(key), root)
    return Config.parse_obj(settings)
