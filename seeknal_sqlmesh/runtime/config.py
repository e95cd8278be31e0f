"""Load a translated project's `settings.yaml` into a SQLMesh `Config`.

Translated projects use a tiny `config.py` that calls `load_project_config(Path(__file__).parent)`, because a
YAML config cannot anchor relative paths: DuckDB would otherwise open `warehouse.duckdb` in whatever folder
`sqlmesh` was started from. Loading also lets each plugin register what the project needs with SQLMesh (the
StarRocks adapter only for projects with a StarRocks gateway).
"""

from __future__ import annotations

import logging
import os
import sys
import typing as t
from pathlib import Path

from sqlmesh.core.config import Config
from sqlmesh.core.config.loader import load_config_from_yaml

from seeknal_sqlmesh import plugins
from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.errors import SeeknalError

GATEWAY_MODELS_KEY = "seeknal_gateway_models"  # written by translators/assemble.py


def shared_state_connection(data_dir: str = ".") -> t.Dict[str, t.Any]:
    """One state file for every gateway: plans on any gateway see the same environments, and engines that cannot
    hold SQLMesh state (StarRocks: no DDL transactions) never have to. It lives in the data area `data_dir`."""
    return {"type": "duckdb", "database": f"{data_dir}/{Layout.STATE}"}


def relative_data_dir(translated: Path) -> str:
    """The data area as the generated settings write it, relative to the translated folder: `../sample.data`."""
    return f"../{Layout.data_dir(Path(translated)).name}"


logger = logging.getLogger("seeknal_sqlmesh")
# The translated project's folder, kept for run-time code that resolves project-relative paths (file exports,
# SQLite sources). A module global, not an environment variable: SQLMesh restores os.environ after loading config.
_project_dir: t.Optional[Path] = None
_data_dir: t.Optional[Path] = None  # the data area (settings key `seeknal_data_dir`); the folder itself before it


def project_dir() -> Path:
    return _project_dir or Path.cwd()


def data_dir() -> Path:
    """The loaded project's data area: warehouse, state, cache and the exports of non-prod environments."""
    return _data_dir or project_dir()


_PATH_KEYS = ("database",)


def _anchor_paths(connection: t.Optional[t.Dict[str, t.Any]], root: Path) -> None:
    if not connection or connection.get("type") != "duckdb":
        return
    for key in _PATH_KEYS:
        value = connection.get(key)
        if isinstance(value, str) and value not in ("", ":memory:") and not Path(value).is_absolute():
            connection[key] = str((root / value).resolve())


GATEWAYS_ENV = "SEEKNAL_SQLMESH_GATEWAYS"


def requested_gateways(argv: t.Sequence[str]) -> t.Set[str]:
    """Gateways asked for with the stock CLI's `--gateway NAME` or the SEEKNAL_SQLMESH_GATEWAYS variable."""
    names = {n.strip() for n in os.environ.get(GATEWAYS_ENV, "").split(",") if n.strip()}
    for i, arg in enumerate(argv):
        if arg in ("--gateway", "-g") and i + 1 < len(argv):
            names.add(argv[i + 1])
        elif arg.startswith("--gateway="):
            names.add(arg.split("=", 1)[1])
    return names


def active_gateways(settings: t.Dict[str, t.Any], argv: t.Sequence[str]) -> t.Dict[str, t.Any]:
    """SQLMesh opens a connection to every configured gateway when a project loads, so a Postgres or StarRocks
    gateway that is not reachable would break plans on the embedded DuckDB. Only the default gateway and the ones
    explicitly requested are configured; `SEEKNAL_SQLMESH_GATEWAYS=all` keeps every gateway."""
    gateways = settings.get("gateways") or {}
    wanted = requested_gateways(argv)
    if "all" in wanted:
        return gateways
    keep = {settings.get("default_gateway"), *wanted}
    return {name: g for name, g in gateways.items() if name in keep}


CONCURRENT_TASKS_ENV = "SEEKNAL_SQLMESH_CONCURRENT_TASKS"
DUCKDB_MAX_CONCURRENT_TASKS = 8
# Gateway types whose default is not SQLMesh's own (DuckDB: chosen from the cores below; MotherDuck is remote, and
# SQLMesh's default of 1 is only there because it shares DuckDB's config class). Postgres, StarRocks and the other
# warehouses keep SQLMesh's default of 4.
REMOTE_DUCKDB_CONCURRENT_TASKS = {"motherduck": 4}


def default_concurrent_tasks(connection_type: t.Optional[str], cores: t.Optional[int] = None) -> t.Optional[int]:
    """Models a gateway evaluates at once when settings.yaml does not say: None leaves SQLMesh's default.

    DuckDB already runs each query on every core, so a model at a time leaves cores idle only in the single-threaded
    parts (reading CSV/JSON, Python models, small queries, SQLMesh's own bookkeeping): half the cores, at least 2 and
    at most 8, keeps those busy without running a dozen full-width queries against each other. Each concurrent task
    gets its own DuckDB cursor (SQLMesh's thread-local pool when `concurrent_tasks` > 1), so this is safe.
    """
    if connection_type in REMOTE_DUCKDB_CONCURRENT_TASKS:
        return REMOTE_DUCKDB_CONCURRENT_TASKS[connection_type]
    if connection_type != "duckdb":
        return None
    cores = cores or os.cpu_count() or 1
    return 1 if cores < 2 else min(DUCKDB_MAX_CONCURRENT_TASKS, max(2, cores // 2))


def apply_concurrency(
    gateways: t.Dict[str, t.Any], override: t.Optional[int] = None, cores: t.Optional[int] = None
) -> None:
    """Fill in `concurrent_tasks` of each gateway's connection at load time (never written to settings.yaml, which
    stays the same on every machine): `override` (`--workers`, SEEKNAL_SQLMESH_CONCURRENT_TASKS) first, then the
    user's value in settings, then `default_concurrent_tasks`. A DuckDB state connection gets at least its gateway's
    value: SQLMesh otherwise switches it to multi-threaded mode itself, with a warning, when the plan starts."""
    for gateway in gateways.values():
        connection = gateway.get("connection")
        if not isinstance(connection, dict):
            continue
        if override:
            connection["concurrent_tasks"] = override
        elif "concurrent_tasks" not in connection:
            chosen = default_concurrent_tasks(connection.get("type"), cores)
            if chosen is not None:
                connection["concurrent_tasks"] = chosen
        tasks = connection.get("concurrent_tasks")
        state = gateway.get("state_connection")
        if isinstance(tasks, int) and isinstance(state, dict) and state.get("type") == "duckdb":
            state["concurrent_tasks"] = max(tasks, int(state.get("concurrent_tasks") or 1))


def _env_concurrent_tasks() -> t.Optional[int]:
    value = os.environ.get(CONCURRENT_TASKS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SeeknalError(
            f"{CONCURRENT_TASKS_ENV}={value!r} is not a number of tasks", "set it to a whole number, 1 or more"
        )
    return int(value)


def load_project_config(
    root: Path, argv: t.Optional[t.Sequence[str]] = None, *, concurrent_tasks: t.Optional[int] = None
) -> Config:
    """`concurrent_tasks` (as `seeknal run --workers`) overrides every gateway's; see `apply_concurrency`."""
    global _project_dir, _data_dir
    root = Path(root).resolve()
    _project_dir = root
    settings = load_config_from_yaml(root / Layout.SETTINGS)
    data = settings.pop(Layout.DATA_DIR_KEY, None)
    _data_dir = (root / data).resolve() if isinstance(data, str) and data else None
    cache = settings.get("cache_dir")
    if isinstance(cache, str) and cache and not Path(cache).is_absolute():
        settings["cache_dir"] = str((root / cache).resolve())
    settings["gateways"] = active_gateways(settings, sys.argv if argv is None else argv)
    skipped = {
        g: files for g, files in (settings.pop(GATEWAY_MODELS_KEY, None) or {}).items() if g not in settings["gateways"]
    }
    if skipped:
        settings["ignore_patterns"] = [
            *settings.get("ignore_patterns", []),
            *(f for files in skipped.values() for f in files),
        ]
        counts = ", ".join(
            f"{len([f for f in files if f.startswith('models/')])} on '{g}'" for g, files in skipped.items()
        )
        logger.warning(
            "seeknal: models of gateways not requested are not loaded (%s); use --gateway NAME or %s=all",
            counts,
            GATEWAYS_ENV,
        )
    for gateway in (settings.get("gateways") or {}).values():
        # gateways added through --settings too
        gateway.setdefault("state_connection", shared_state_connection(data if isinstance(data, str) else "."))
        for key in ("connection", "state_connection", "test_connection"):
            _anchor_paths(gateway.get(key), root)
    apply_concurrency(settings.get("gateways") or {}, concurrent_tasks or _env_concurrent_tasks())
    plugins.register_sqlmesh(settings)  # engine adapters, kinds, macros the project's gateways need
    return Config.parse_obj(settings)
