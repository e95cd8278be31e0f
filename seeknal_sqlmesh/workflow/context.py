"""One SQLMesh `Context` per command, and Seeknal node ids resolved against it.

A Seeknal node `kind.name` is the SQLMesh model `kind.name`; a column is `kind.name.column`. Models that no Seeknal
node owns (the feature store's `feature_store.*`) are addressed by their model name. An unknown id is an error that
suggests the nearest ones.
"""

from __future__ import annotations

import contextlib
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from seeknal_sqlmesh.contract import Manifest, ProjectPaths, find_project
from seeknal_sqlmesh.errors import CheckFailed, SeeknalError, did_you_mean

if t.TYPE_CHECKING:
    from sqlmesh import Context
    from sqlmesh.core.model import Model

    from seeknal_sqlmesh.runtime.environments import EnvironmentTables


class UnknownNode(SeeknalError):
    """A node id, model or column that the project does not have."""


@dataclass
class Workspace:
    """A translated project opened in one SQLMesh `Context` (the Python API of every `seeknal` workflow command)."""

    paths: ProjectPaths
    context: Context
    notes: t.List[str] = field(default_factory=list)  # things people should know (an option that was not honoured)
    _manifest: t.Optional[Manifest] = field(default=None, repr=False)

    @property
    def translated(self) -> Path:
        return self.paths.translated

    @property
    def manifest(self) -> Manifest:
        if self._manifest is None:
            self._manifest = Manifest.load(self.paths.translated)
        return self._manifest

    def close(self) -> None:
        """Release every connection (SQLMesh's `close` leaves the engine adapter open when nothing was evaluated)."""
        ctx = self.context
        ctx.close()
        adapters = [getattr(ctx, "_engine_adapter", None), *dict(ctx.__dict__.get("engine_adapters") or {}).values()]
        for adapter in {id(a): a for a in adapters if a is not None}.values():
            adapter.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ names

    def models_by_name(self) -> t.Dict[str, Model]:
        """Model name as users write it (`transform.orders`) -> model."""
        return {model.name.lower(): model for model in self.context.models.values()}

    def display_name(self, fqn: str) -> str:
        """`"warehouse"."transform"."orders"` -> `transform.orders` (the name users know)."""
        model = self.context.models.get(fqn)
        if model is not None:
            return model.name
        from sqlglot import exp

        table = exp.to_table(fqn)
        return ".".join(part for part in (table.db, table.name) if part) or fqn

    def node_ids(self) -> t.List[str]:
        """Every id a command accepts: the Seeknal nodes with a model, and every model name."""
        ids = {node_id for node_id, entry in self.manifest.nodes.items() if entry.models}
        return sorted(ids | {model.name for model in self.context.models.values()})

    def model(self, node_id: str) -> Model:
        """The SQLMesh model of a Seeknal node id (or of a model name)."""
        wanted = node_id.strip()
        entry = self.manifest.nodes.get(wanted)
        name = entry.models[0] if entry is not None and entry.models else wanted
        found = self.models_by_name().get(name.lower()) or self.context.models.get(name)
        if found is not None:
            return found
        if entry is not None and not entry.models:
            reads = entry.upstream_model or ", ".join(entry.upstream) or "nothing"
            raise UnknownNode(
                f"node '{wanted}' ({entry.kind}) has no SQLMesh model of its own",
                f"it reads {reads}; pass that node instead",
            )
        if entry is not None:
            raise UnknownNode(
                f"the model {name} of node '{wanted}' is not loaded (its gateway is not active)",
                "activate its gateway (SEEKNAL_SQLMESH_GATEWAYS=all) or run `sqlmesh --gateway NAME ...`",
            )
        raise UnknownNode(
            f"unknown node '{wanted}'{did_you_mean(wanted, self.node_ids())}",
            "node ids are kind.name, e.g. transform.clean_users (`seeknal check-intervals` lists them)",
        )

    def column(self, column_id: str) -> t.Tuple[Model, str]:
        """`kind.name.column` -> (model, column). The column is checked by the caller (it needs a schema)."""
        parts = column_id.strip().split(".")
        if len(parts) < 3:
            raise UnknownNode(
                f"'{column_id}' is not a column id", "write kind.name.column, e.g. transform.clean_users.user_id"
            )
        return self.model(".".join(parts[:-1])), parts[-1]

    def selection(self, selectors: t.Iterable[str]) -> t.List[str]:
        """SQLMesh selection expressions (`transform.x+`, `+source.y`, `tag:t`, wildcards), each name checked."""
        out = []
        for selector in selectors:
            core = selector.strip().strip("+")
            if core and not any(ch in core for ch in "*:&|()^ ") and core.count(".") >= 1:
                self.model(core)  # an unknown name gets a suggestion instead of "selector matched nothing"
            out.append(selector.strip())
        return out

    def environment_tables(self, env: str) -> EnvironmentTables:
        from seeknal_sqlmesh.runtime.environments import EnvironmentTables

        return EnvironmentTables.open(self.context.state_reader, env, self.context.default_dialect or "duckdb")


def open_workspace(
    project: t.Union[ProjectPaths, str, Path, None] = None,
    *,
    concurrent_tasks: t.Optional[int] = None,
    load: bool = True,
) -> Workspace:
    """Open the translated project (a Seeknal project stands for its translation) in one SQLMesh `Context`.

    `load=False` skips reading the model files: enough for what works on an environment's snapshots in state
    (`run`, interval checks), and a second or more faster on a large project.
    """
    paths = project if isinstance(project, ProjectPaths) else find_project(project)
    notes: t.List[str] = []
    with sqlmesh_errors():
        from sqlmesh import Context

        load_serially_when_small(paths.translated)

        config = None
        if concurrent_tasks:
            from seeknal_sqlmesh.runtime.config import load_project_config

            # The connections themselves get N tasks, not only SQLMesh's scheduler (`Context(concurrent_tasks=)`):
            # a DuckDB connection configured for one task is one cursor shared by every thread ("No open result
            # set"); configured for N, SQLMesh gives each thread its own cursor.
            config = load_project_config(paths.translated, concurrent_tasks=concurrent_tasks)
            _forget_duckdb_adapters(config)
        context = Context(paths=str(paths.translated), config=config, concurrent_tasks=concurrent_tasks, load=load)
    return Workspace(paths, context, notes)


SERIAL_LOAD_MAX_MODELS = 200  # below this, SQLMesh's per-load process pool costs more than it saves


def load_serially_when_small(translated: Path) -> None:
    """SQLMesh computes model schemas in a pool of forked processes on every load (`MAX_FORK_WORKERS`, all CPUs by
    default). Forking the pool costs ~0.3-1 s, more than the work on a project of a few dozen models: those load in
    this process instead. A `MAX_FORK_WORKERS` set in the environment wins."""
    import os

    from sqlmesh.core import constants

    if os.environ.get("MAX_FORK_WORKERS") or constants.MAX_FORK_WORKERS == 1:
        return
    models = translated / "models"
    count = sum(1 for p in models.rglob("*") if p.suffix in (".sql", ".py")) if models.is_dir() else 0
    if count < SERIAL_LOAD_MAX_MODELS:
        constants.MAX_FORK_WORKERS = 1


def _forget_duckdb_adapters(config: t.Any) -> None:
    """SQLMesh keeps one DuckDB adapter per database file for the whole process, made for the task count of whoever
    opened the file first: one opened for a single task would share its one cursor among N threads. Forgetting them
    lets this context make its own (DuckDB shares the open database between both)."""
    from sqlmesh.core.config.connection import BaseDuckDBConnectionConfig

    cache = BaseDuckDBConnectionConfig._data_file_to_adapter
    for gateway in config.gateways.values():
        for connection in (gateway.connection, gateway.state_connection):
            database = getattr(connection, "database", None)
            if isinstance(database, str):
                cache.pop(database, None)


@contextlib.contextmanager
def sqlmesh_errors(check: bool = False) -> t.Iterator[None]:
    """SQLMesh's own errors (plan, config, a locked DuckDB file) as `SeeknalError`s: a message, no traceback.

    With `check`, a SQLMesh error means a check failed (exit code 1) rather than bad input (exit code 2).
    """
    from sqlmesh.utils.errors import SQLMeshError

    try:
        yield
    except SeeknalError:
        raise
    except SQLMeshError as e:
        kind = CheckFailed if check else SeeknalError
        raise kind(str(e).strip(), "see the SQLMesh log in the project's logs/ folder for details") from e
    except Exception as e:
        if type(e).__name__ == "IOException" and "lock" in str(e).lower():
            raise SeeknalError(
                f"the project's DuckDB file is in use by another process: {e}",
                "close the other `seeknal`/`sqlmesh` session (UI, notebook, REPL) and retry",
            ) from e
        raise
