"""(environment, model) -> table, always through SQLMesh's own state and naming rules.

SQLMesh decides where an environment's view of a model lives (`transform__dev.orders` by default, but the suffix
target, catalogs and normalization are configurable) and which physical table a snapshot writes. Nothing in this
package spells those names itself: the feature store, the semantic layer, the REPL and the export macro all ask here.

- `EnvironmentTables(state_reader, env)`: an environment's snapshots, their views and physical tables;
- `environment_view(snapshot, naming_info, dialect)`: the one rule, also used by macros (they get the snapshots and
  the naming info from SQLMesh's macro evaluator).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from sqlglot import exp

from seeknal_sqlmesh.errors import SeeknalError

if t.TYPE_CHECKING:
    from sqlmesh.core.environment import Environment, EnvironmentNamingInfo
    from sqlmesh.core.snapshot import Snapshot, SnapshotTableInfo
    from sqlmesh.core.state_sync import StateReader


class EnvironmentNotFound(SeeknalError):
    """The SQLMesh environment asked for has not been planned (or was dropped)."""


def environment_view(
    snapshot: t.Union[Snapshot, SnapshotTableInfo], naming_info: EnvironmentNamingInfo, dialect: str = "duckdb"
) -> exp.Table:
    """The view of `snapshot`'s model in the environment `naming_info` describes (SQLMesh's virtual layer)."""
    return exp.to_table(snapshot.qualified_view_name.for_environment(naming_info, dialect=dialect), dialect=dialect)


def model_key(name: str) -> t.Tuple[str, str]:
    """A model name (`transform.orders`, `"db"."transform"."orders"`) -> (schema, table), lower case, unquoted."""
    table = exp.to_table(name)
    return table.db.lower(), table.name.lower()


@dataclass
class EnvironmentTables:
    """What one SQLMesh environment serves: per model, its snapshot, its view and its physical table."""

    environment: Environment
    state_reader: StateReader
    dialect: str = "duckdb"

    @classmethod
    def open(cls, state_reader: StateReader, env: str = "prod", dialect: str = "duckdb") -> EnvironmentTables:
        name = (env or "prod").lower()
        environment = state_reader.get_environment(name)
        if environment is None:
            known = ", ".join(sorted(e.name for e in state_reader.get_environments())) or "none yet"
            plan = "plan" if name == "prod" else f"plan {name}"
            raise EnvironmentNotFound(
                f"SQLMesh environment '{name}' does not exist (environments: {known})",
                f"build it with `seeknal {plan} --auto-apply` (or `sqlmesh {plan}`)",
            )
        return cls(environment, state_reader, dialect)

    @property
    def name(self) -> str:
        return self.environment.name

    def _index(self) -> t.Dict[t.Tuple[str, str], SnapshotTableInfo]:
        cached = self.__dict__.get("_by_key")
        if cached is None:
            cached = self.__dict__["_by_key"] = {model_key(s.name): s for s in self.environment.snapshots}
        return cached

    def snapshot_info(self, model: str) -> t.Optional[SnapshotTableInfo]:
        """The environment's snapshot of `model` (`schema.table`; a bare table name when it is unambiguous)."""
        key = model_key(model)
        index = self._index()
        if key in index:
            return index[key]
        if not key[0]:
            matches = [info for (_, table), info in index.items() if table == key[1]]
            if len(matches) == 1:
                return matches[0]
        return None

    def models(self) -> t.List[str]:
        return sorted(f"{db}.{table}" for db, table in self._index())

    def view(self, model: str) -> t.Optional[exp.Table]:
        """The environment's view of `model`, or None when the environment has no such model."""
        info = self.snapshot_info(model)
        return None if info is None else environment_view(info, self.environment.naming_info, self.dialect)

    def views(self) -> t.Dict[str, exp.Table]:
        """Every model of the environment -> its view."""
        naming = self.environment.naming_info
        return {
            f"{db}.{table}": environment_view(info, naming, self.dialect) for (db, table), info in self._index().items()
        }

    def snapshots(self, models: t.Sequence[str]) -> t.Dict[str, t.Optional[t.Tuple[Snapshot, bool]]]:
        """model -> (full snapshot, deployable) for each model the environment has (None otherwise).

        A snapshot that is not deployable (a forward-only change previewed in dev) writes to its dev table.
        """
        from sqlmesh.core.snapshot import DeployabilityIndex

        infos = {m: self.snapshot_info(m) for m in models}
        found = self.state_reader.get_snapshots([i.snapshot_id for i in infos.values() if i is not None])
        index = None
        if self.name != "prod" and found:
            index = DeployabilityIndex.create(self.state_reader.get_snapshots(self.environment.snapshots))
        out: t.Dict[str, t.Optional[t.Tuple[Snapshot, bool]]] = {}
        for model, info in infos.items():
            snapshot = found.get(info.snapshot_id) if info is not None else None
            out[model] = (
                None if snapshot is None else (snapshot, index is None or index.is_deployable(snapshot.snapshot_id))
            )
        return out

    def physical_table(self, model: str) -> t.Optional[exp.Table]:
        """The physical table the environment's snapshot of `model` reads from and writes to."""
        found = self.snapshots([model])[model]
        if found is None:
            return None
        snapshot, deployable = found
        return exp.to_table(snapshot.table_name(is_deployable=deployable), dialect=self.dialect)
