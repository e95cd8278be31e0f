"""The feature store of a translated project: registry + SQLMesh state + the engine.

`FeatureStore(project, env)` opens the project's SQLMesh context without loading models (state and engine
connections only, so a lookup does not pay for parsing the whole project) and answers:

- `describe_group` / `describe_entity`: registry entries plus, per environment, the SQLMesh snapshot serving them;
- `historical`: a point-in-time training set (`plan.py`) from the environment's physical tables, with a manifest;
- `replay`: the same training set again from the snapshots a manifest names, refused when one is gone;
- `online`: latest values per key from the latest-value models.

Which snapshot and physical table an environment uses for a model is asked of `runtime.environments`
(`EnvironmentTables`), the one place that reads it from SQLMesh's state; nothing here spells table names.

`get_historical_features`, `get_online_features` and `replay_training_set` are one-call wrappers.
"""

from __future__ import annotations

import contextlib
import typing as t
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from seeknal_sqlmesh import sqlkit
from seeknal_sqlmesh.contract import find_project
from seeknal_sqlmesh.errors import did_you_mean
from seeknal_sqlmesh.features import sql as q
from seeknal_sqlmesh.features import training
from seeknal_sqlmesh.features.durations import TTL, format_ttl, parse_ttl
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.features.online import LatestTable, normalise_keys, online_query
from seeknal_sqlmesh.features.plan import TEMPORAL, GroupRequest, GroupTable, Spine, build_plan, render_plan
from seeknal_sqlmesh.features.registry import FeatureGroup, Registry
from seeknal_sqlmesh.runtime.environments import EnvironmentTables
from seeknal_sqlmesh.sqlkit import to_sql

if t.TYPE_CHECKING:
    import pandas as pd
    from sqlmesh import Context
    from sqlmesh.core.engine_adapter import EngineAdapter
    from sqlmesh.core.snapshot import Snapshot

SPINE_VIEW = "__seeknal_spine"
SPINE_PROBE = "__seeknal_spine_probe"  # an empty view of the spine, to read its types
DEFAULT_AS_OF = "event_time"


@dataclass
class SnapshotRef:
    """The SQLMesh snapshot (model version) an environment uses for a model, and its physical table."""

    model: str
    name: str  # fully qualified snapshot name
    identifier: str
    version: str
    fingerprint: t.Dict[str, t.Any]
    table: str
    intervals: t.List[t.Tuple[int, int]]
    kind: str
    time_column: t.Optional[str]
    gateway: t.Optional[str]
    owner: t.Optional[str] = None

    @property
    def processed_until(self) -> t.Optional[datetime]:
        """The end of the last processed interval (exclusive), UTC."""
        if not self.intervals:
            return None
        return datetime.fromtimestamp(max(end for _, end in self.intervals) / 1000, tz=timezone.utc).replace(
            tzinfo=None
        )

    def to_json(self) -> t.Dict[str, t.Any]:
        return {
            "model": self.model,
            "snapshot": self.name,
            "identifier": self.identifier,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "table": self.table,
            "kind": self.kind,
            "gateway": self.gateway,
            "intervals": [[_iso(s), _iso(e)] for s, e in self.intervals],
        }


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).replace(tzinfo=None).isoformat()


@dataclass
class TrainingSet:
    table: pa.Table
    manifest: t.Dict[str, t.Any]
    path: t.Optional[Path] = None
    manifest_path: t.Optional[Path] = None

    def to_pandas(self) -> pd.DataFrame:
        frame = self.table.to_pandas()
        frame.attrs["seeknal_manifest"] = self.manifest
        return frame

    def write(self, output: t.Union[str, Path], output_format: t.Optional[str] = None) -> Path:
        """Write the rows and the manifest (which records where the rows are); returns the manifest's path."""
        self.path = Path(output).resolve()
        self.manifest["output"]["path"] = str(self.path)
        self.manifest_path = training.write_training_set(self.table, self.manifest, self.path, output_format)
        return self.manifest_path


class FeatureStore:
    def __init__(self, project: t.Union[str, Path] = ".", env: str = "prod"):
        self.root = find_project(project).translated  # a Seeknal project stands for its translation
        self.registry = Registry.load(self.root)
        self.env = env
        self._context: t.Optional[Context] = None

    # ---- SQLMesh -------------------------------------------------------------------------------------------------

    @property
    def context(self) -> Context:
        if self._context is None:
            from sqlmesh import Context

            try:
                self._context = Context(paths=str(self.root), load=False)
            except Exception as e:  # SQLMesh's own errors (config, connections) are about the user's project
                raise FeatureStoreError(
                    f"{self.root}: cannot open the SQLMesh project: {e}", "check its settings.yaml, or translate again"
                ) from None
        return self._context

    def close(self) -> None:
        if self._context is not None:
            self._context.close()
            self._context = None

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: t.Any) -> None:
        self.close()

    def environments(self) -> t.List[str]:
        return sorted(e.name for e in self.context.state_reader.get_environments())

    def tables(self, env: t.Optional[str] = None) -> EnvironmentTables:
        """What environment `env` (default: the store's) serves, read from SQLMesh's state at this moment."""
        return EnvironmentTables.open(self.context.state_reader, env or self.env)

    def snapshots(self, models: t.Sequence[str], env: t.Optional[str] = None) -> t.Dict[str, t.Optional[SnapshotRef]]:
        """model -> the snapshot environment `env` uses for it (None when the environment does not have it)."""
        found = self.tables(env).snapshots(models)
        return {m: None if f is None else self._ref(m, *f) for m, f in found.items()}

    def versions(
        self, models: t.Sequence[str], envs: t.Optional[t.Sequence[str]] = None
    ) -> t.Dict[str, t.Dict[str, SnapshotRef]]:
        """model -> {environment: the snapshot serving it there}, over `envs` (default: every environment)."""
        out: t.Dict[str, t.Dict[str, SnapshotRef]] = {m: {} for m in models}
        for env in self.environments() if envs is None else envs:
            for model, ref in self.snapshots(models, env).items():
                if ref is not None:
                    out[model][env] = ref
        return out

    def _ref(self, model: str, snapshot: Snapshot, deployable: bool = True) -> SnapshotRef:
        sqlmesh_model = snapshot.model
        kind = sqlmesh_model.kind
        time_column = getattr(kind, "time_column", None)
        return SnapshotRef(
            model=model,
            name=snapshot.name,
            identifier=snapshot.identifier,
            version=snapshot.version_get_or_generate(),  # set on every stored snapshot
            fingerprint=snapshot.fingerprint.model_dump(mode="json"),
            table=snapshot.table_name(is_deployable=deployable),
            intervals=[(start, end) for start, end in (snapshot.intervals if deployable else snapshot.dev_intervals)],
            kind=kind.name.value,
            time_column=time_column.column.name if time_column is not None else None,
            gateway=sqlmesh_model.gateway,
            owner=sqlmesh_model.owner,
        )

    def _adapter(self, gateway: t.Optional[str]) -> EngineAdapter:
        try:
            return self.context._get_engine_adapter(gateway)
        except Exception as e:  # an unknown gateway, or one whose connection fails
            raise FeatureStoreError(
                f"gateway '{gateway}' is not available in {self.root}: {e}", "check the gateway in settings.yaml"
            ) from None

    def _columns(self, adapter: EngineAdapter, table: str) -> t.Dict[str, exp.DataType]:
        try:
            return dict(adapter.columns(table))
        except Exception as e:  # the engine's error: the table is gone or unreadable
            raise FeatureStoreError(
                f"cannot read the columns of {table}: {e}", "plan the environment: `sqlmesh plan`"
            ) from None

    # ---- registry with versions ----------------------------------------------------------------------------------

    def overview(self) -> t.Dict[str, t.Any]:
        """Entities, and feature groups with the fingerprint of the snapshot serving each in every environment."""
        groups = self.registry.groups
        versions = self.versions([g.model for g in groups.values()])
        return {
            "entities": [
                {
                    "name": e.name,
                    "join_keys": e.join_keys,
                    "description": e.description,
                    "feature_groups": e.feature_groups,
                    "view": e.view,
                }
                for e in self.registry.entities.values()
            ],
            "feature_groups": [
                {
                    "name": g.name,
                    "entity": g.entity,
                    "event_time": g.event_time,
                    "features": g.feature_names,
                    "owner": g.owner,
                    "online": g.online,
                    "online_ttl": g.online_ttl,
                    "model": g.model,
                    "fingerprints": {env: ref.identifier for env, ref in versions[g.model].items()},
                }
                for g in groups.values()
            ],
        }

    def describe(self, name: str) -> t.Dict[str, t.Any]:
        """A feature group (`describe_group`) or an entity (`describe_entity`), by name; `kind` says which."""
        bare = name.split(".", 1)[1] if name.startswith("feature_group.") else name
        if bare in self.registry.groups:
            return self.describe_group(bare)
        if name in self.registry.entities:
            return self.describe_entity(name)
        entities, groups = list(self.registry.entities), list(self.registry.groups)
        raise FeatureStoreError(
            f"'{name}' is neither an entity ({', '.join(entities) or 'none'}) nor a feature group "
            f"({', '.join(groups) or 'none'}) of {self.root}" + did_you_mean(name, [*entities, *groups])
        )

    def describe_group(self, name: str) -> t.Dict[str, t.Any]:
        group = self.registry.group(name)
        versions, types = self._versions(group.model)
        latest = self._versions(group.latest_model)[0] if group.latest_model else {}
        return {
            "kind": "feature_group",
            "name": group.name,
            "node": group.node,
            "file": group.file,
            "model": group.model,
            "entity": group.entity,
            "join_keys": group.join_keys,
            "event_time": group.event_time,
            "description": group.description,
            "owner": group.owner,
            "online": group.online,
            "online_ttl": group.online_ttl,
            "latest_model": group.latest_model,
            "features": [
                {
                    "name": f.name,
                    "type": types.get(f.name),
                    "dtype": f.dtype,
                    "description": f.description,
                    "declared": f.declared,
                }
                for f in group.features
            ],
            "environments": versions,
            "latest_environments": latest,
        }

    def describe_entity(self, name: str) -> t.Dict[str, t.Any]:
        entity = self.registry.entity(name)
        return {
            "kind": "entity",
            "name": entity.name,
            "join_keys": entity.join_keys,
            "description": entity.description,
            "feature_groups": entity.feature_groups,
            "view": entity.view,
            "environments": self._versions(entity.view)[0] if entity.view else {},
        }

    def _versions(self, model: str) -> t.Tuple[t.Dict[str, t.Any], t.Dict[str, str]]:
        """Per environment: the snapshot fingerprint and table serving `model`; and column types from self.env."""
        versions: t.Dict[str, t.Any] = {}
        types: t.Dict[str, str] = {}
        for env, ref in self.versions([model])[model].items():
            versions[env] = {
                "fingerprint": ref.identifier,
                "version": ref.version,
                "table": ref.table,
                "processed_until": ref.processed_until.isoformat() if ref.processed_until else None,
            }
            if env == self.env or not types:
                columns = self._columns(self._adapter(ref.gateway), ref.table)
                types = {c: to_sql(ty) for c, ty in columns.items()}
        return versions, types

    # ---- point-in-time training sets -----------------------------------------------------------------------------

    def historical(
        self,
        spine: training.SpineLike,
        features: t.Sequence[str],
        *,
        as_of_column: t.Optional[str] = None,
        ttl: t.Union[TTL, t.Dict[str, TTL]] = None,
        full_feature_names: bool = False,
        form: t.Optional[str] = None,
        output: t.Union[str, Path, None] = None,
        output_format: t.Optional[str] = None,
    ) -> TrainingSet:
        """For each spine row, every feature's latest value at or before the spine's time (see plan.py).

        `output`: also write the rows (Parquet, CSV or JSON: `output_format`, else the extension) and the manifest.
        """
        if output is not None:
            training.output_format(output, output_format)  # refuse a wrong file name before any work
        requested = self.registry.resolve(features)
        models = {name: self.registry.groups[name].model for name in requested}
        refs = self.snapshots(list(models.values()))
        groups: t.List[t.Tuple[str, SnapshotRef, t.List[str]]] = []
        missing = []
        for name, feats in requested.items():
            ref = refs[models[name]]
            if ref is None:
                missing.append(f"{name} (model {models[name]})")
            else:
                groups.append((name, ref, feats))
        if missing:
            raise FeatureStoreError(
                f"not in environment '{self.env}' of {self.root}: {', '.join(missing)}",
                f"plan it with `sqlmesh -p {self.root} plan{'' if self.env == 'prod' else ' ' + self.env}`",
            )
        ttls = self._ttls(ttl, list(requested))
        request = {
            "features": list(features),
            "groups": list(requested),
            "as_of_column": as_of_column,
            "full_feature_names": full_feature_names,
            "ttl": {g: format_ttl(v) for g, v in ttls.items()},
        }
        result = self._build(spine, groups, request, ttls, form, replay_of=None)
        if output is not None:
            result.write(output, output_format)
        return result

    def replay(
        self,
        manifest: t.Union[str, Path, t.Dict[str, t.Any]],
        *,
        spine: t.Optional[training.SpineLike] = None,
        output: t.Union[str, Path, None] = None,
        output_format: t.Optional[str] = None,
    ) -> TrainingSet:
        """Rebuild a training set from the snapshots its manifest names; refuse when one is gone or rows differ.

        `manifest`: the manifest itself, its JSON sidecar or a Parquet training set carrying it.
        """
        from sqlmesh.core.snapshot import SnapshotId

        if output is not None:
            training.output_format(output, output_format)
        manifest = manifest if isinstance(manifest, dict) else training.read_manifest(manifest)
        recorded = manifest["feature_groups"]
        # the JSON keeps keys sorted; columns follow the request
        order = manifest["request"].get("groups") or list(recorded)
        ids = {g: SnapshotId(name=e["snapshot"], identifier=e["identifier"]) for g, e in recorded.items()}
        found = self.context.state_reader.get_snapshots(list(ids.values()))
        gone = []
        groups: t.List[t.Tuple[str, SnapshotRef, t.List[str]]] = []
        for name in order:
            entry = recorded[name]
            snapshot = found.get(ids[name])
            adapter = self._adapter(entry.get("gateway"))
            if snapshot is None or not adapter.table_exists(entry["table"]):
                gone.append(f"{name}: snapshot {entry['identifier']} of {entry['model']} (table {entry['table']})")
                continue
            ref = self._ref(entry["model"], snapshot)
            ref.table, ref.intervals = entry["table"], [(_ms(s), _ms(e)) for s, e in entry["intervals"]]
            groups.append((name, ref, list(entry["features"])))
        if gone:
            raise FeatureStoreError(
                "cannot replay the training set: SQLMesh no longer has these snapshots (the janitor removes snapshots "
                "no environment uses once their snapshot_ttl has passed, or an environment was invalidated):\n"
                + "\n".join(f"  - {g}" for g in gone),
                "build a new training set with `seeknal features historical`",
            )
        spine_source = spine if spine is not None else manifest["spine"].get("path")
        if spine_source is None:
            raise FeatureStoreError(
                "the training set was built from an in-memory spine",
                "pass the same spine to replay it (--spine, spine=)",
            )
        if spine is None and not Path(spine_source).is_file():
            raise FeatureStoreError(
                f"the spine the training set was built from, {spine_source}, is gone", "pass it with --spine (spine=)"
            )
        request = dict(manifest["request"])
        ttls = {g: parse_ttl(v) for g, v in (request.get("ttl") or {}).items()}
        result = self._build(
            spine_source,
            groups,
            request,
            ttls,
            manifest["request"].get("form"),
            replay_of=manifest,
            expected_spine=manifest["spine"]["sha256"],
        )
        if result.manifest["output"]["sha256"] != manifest["output"]["sha256"]:
            raise FeatureStoreError(
                f"the replay does not reproduce the training set: its rows differ (content hash "
                f"{result.manifest['output']['sha256'][:12]} instead of {manifest['output']['sha256'][:12]}). The snapshots "
                "still exist, but their data changed since (a restatement, or a FULL model re-run)."
            )
        if output is not None:
            result.write(output, output_format)
        return result

    def _ttls(self, ttl: t.Union[TTL, t.Dict[str, TTL]], groups: t.Sequence[str]) -> t.Dict[str, t.Optional[timedelta]]:
        if isinstance(ttl, dict):
            unknown = sorted(set(ttl) - set(groups))
            if unknown:
                raise FeatureStoreError(f"ttl given for feature groups not requested: {', '.join(unknown)}")
            return {g: parse_ttl(ttl.get(g), f"ttl of {g}") for g in groups}
        value = parse_ttl(ttl)
        return dict.fromkeys(groups, value)

    def _build(
        self,
        spine_source: training.SpineLike,
        groups: t.Sequence[t.Tuple[str, SnapshotRef, t.List[str]]],
        request: t.Dict[str, t.Any],
        ttls: t.Dict[str, t.Optional[timedelta]],
        form: t.Optional[str],
        replay_of: t.Optional[t.Dict[str, t.Any]],
        expected_spine: t.Optional[str] = None,
    ) -> TrainingSet:
        gateways = {ref.gateway for _, ref, _ in groups}
        if len(gateways) > 1:
            raise FeatureStoreError(
                f"the feature groups live on different gateways ({', '.join(sorted(map(str, gateways)))}); "
                "ask for the groups of one gateway at a time"
            )
        gateway = gateways.pop()
        adapter = self._adapter(gateway)
        duck = adapter.dialect == "duckdb"
        form = form or ("asof" if duck else "portable")
        con = adapter.connection if duck else None

        table, spine_path = training.read_spine(spine_source, con)
        spine_hash = training.digest(table)
        if expected_spine is not None and spine_hash != expected_spine:
            raise FeatureStoreError(
                f"the spine ({spine_path or 'in memory'}) is not the one the training set was built from "
                "(content hash differs); pass the original spine"
            )
        spine_types = _arrow_types(table, con)
        as_of = request.get("as_of_column") or _default_as_of(spine_types)
        requests = []
        for name, ref, feats in groups:
            columns = self._columns(adapter, ref.table)
            if replay_of is not None:  # what the training set used, whatever the project says today
                keys, event_time = (
                    tuple(replay_of["feature_groups"][name]["join_keys"]),
                    replay_of["feature_groups"][name]["event_time"],
                )
            else:
                keys, event_time = tuple(self.registry.groups[name].join_keys), self.registry.groups[name].event_time
            absent = [c for c in [*keys, event_time, *feats] if c not in columns]
            if absent:
                raise FeatureStoreError(
                    f"{name}: the table {ref.table} (environment '{self.env}') has no column "
                    f"{', '.join(absent)}; plan the environment after translating"
                )
            group = GroupTable(name, ref.table, keys, event_time, columns)
            before = (
                ref.processed_until
                if ref.kind == "INCREMENTAL_BY_TIME_RANGE" and ref.time_column == event_time
                else None
            )
            requests.append(GroupRequest(group, feats, ttls.get(name), before))
        import numpy as np

        spine_rows = table.append_column(q.ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
        plan = build_plan(Spine(SPINE_VIEW, spine_types, as_of), requests, bool(request.get("full_feature_names")))
        sql = render_plan(plan, form, adapter.dialect)
        result = self._run(adapter, con, sql, spine_rows)

        manifest: t.Dict[str, t.Any] = {
            "kind": training.MANIFEST_KIND,
            "version": training.MANIFEST_VERSION,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "project": str(self.root),
            "environment": self.env if replay_of is None else replay_of["environment"],
            "request": {**request, "as_of_column": as_of, "form": form},
            "spine": {
                "path": str(spine_path) if spine_path else None,
                "rows": table.num_rows,
                "sha256": spine_hash,
                "columns": {c: to_sql(ty) for c, ty in spine_types.items()},
            },
            "feature_groups": {
                name: {
                    **ref.to_json(),
                    "join_keys": list(req.group.join_keys),
                    "event_time": req.group.event_time,
                    "features": list(feats),
                    "ttl": format_ttl(req.ttl),
                    "event_time_before": req.before.isoformat() if req.before else None,
                }
                for (name, ref, feats), req in zip(groups, requests, strict=True)
            },
            "output": {
                "path": None,
                "rows": result.num_rows,
                "columns": plan.output_columns,
                "sha256": training.digest(result),
            },
            "versions": _versions(),
        }
        if replay_of is not None:
            manifest["replay_of"] = {
                "created_at": replay_of.get("created_at"),
                "output": replay_of["output"].get("path"),
            }
        return TrainingSet(result, manifest)

    def _run(self, adapter: EngineAdapter, con: t.Any, sql: str, spine_rows: pa.Table) -> pa.Table:
        if con is not None:  # DuckDB: the spine is an Arrow view on the warehouse connection
            con.register(SPINE_VIEW, spine_rows)
            try:
                return training.arrow_of(con.execute(sql))
            finally:
                con.unregister(SPINE_VIEW)
        # other engines: upload the spine as a table, run, drop it (the portable form; not exercised by the tests)
        adapter.replace_query(SPINE_VIEW, spine_rows.to_pandas())
        try:
            return pa.Table.from_pandas(adapter.fetchdf(sql), preserve_index=False)
        finally:
            adapter.drop_table(SPINE_VIEW)

    # ---- online --------------------------------------------------------------------------------------------------

    def online(
        self,
        entity: str,
        keys: t.Sequence[t.Any],
        features: t.Optional[t.Sequence[str]] = None,
        *,
        ttl: t.Union[TTL, t.Dict[str, TTL]] = "declared",
        as_of: t.Optional[datetime] = None,
        full_feature_names: bool = False,
    ) -> pd.DataFrame:
        """The latest value per key of each feature (NULL when older than the TTL: by default each group's
        declared `online.ttl`; `ttl=None` for none), as a pandas DataFrame in the order of `keys`."""
        return self.online_table(
            entity, keys, features, ttl=ttl, as_of=as_of, full_feature_names=full_feature_names
        ).to_pandas()

    def online_table(
        self,
        entity: str,
        keys: t.Sequence[t.Any],
        features: t.Optional[t.Sequence[str]] = None,
        *,
        ttl: t.Union[TTL, t.Dict[str, TTL]] = "declared",
        as_of: t.Optional[datetime] = None,
        full_feature_names: bool = False,
    ) -> pa.Table:
        """`online` as an Arrow table: the engine's types as they are (what the command line writes)."""
        ent = self.registry.entity(entity)
        requested = self._online_features(entity, features)
        latest_models = {g: t.cast(str, self.registry.groups[g].latest_model) for g in requested}  # checked above
        refs = self.snapshots(list(latest_models.values()))
        served: t.Dict[str, SnapshotRef] = {}
        for g, model in latest_models.items():
            ref = refs[model]
            if ref is not None:
                served[g] = ref
        missing = [latest_models[g] for g in requested if g not in served]
        if missing:
            raise FeatureStoreError(
                f"not in environment '{self.env}' of {self.root}: {', '.join(missing)}",
                f"plan the environment: `sqlmesh -p {self.root} plan{'' if self.env == 'prod' else ' ' + self.env}`",
            )
        gateways = {ref.gateway for ref in served.values()}
        if len(gateways) > 1:
            raise FeatureStoreError(
                "the feature groups live on different gateways", "ask for the groups of one gateway at a time"
            )
        adapter = self._adapter(gateways.pop())
        tables: t.List[LatestTable] = []
        taken = set(ent.join_keys)
        for g, feats in requested.items():
            group, ref = self.registry.groups[g], served[g]
            outputs = []
            for f in feats:
                out = f"{g}__{f}" if full_feature_names else f
                if out in taken:
                    raise FeatureStoreError(
                        f"output column '{out}' appears twice", "ask for full feature names (<group>__<feature>)"
                    )
                taken.add(out)
                outputs.append((f, out))
            columns = self._columns(adapter, ref.table)
            tables.append(
                LatestTable(g, ref.table, group.join_keys, group.event_time, columns, outputs, _online_ttl(group, ttl))
            )
        moment = as_of or datetime.now(timezone.utc).replace(tzinfo=None)
        query = online_query(ent.join_keys, normalise_keys(keys, ent.join_keys), tables, moment)
        sql = to_sql(query, adapter.dialect)
        if adapter.dialect == "duckdb":
            return training.arrow_of(adapter.connection.execute(sql))
        return pa.Table.from_pandas(adapter.fetchdf(sql), preserve_index=False)

    def _online_features(self, entity: str, features: t.Optional[t.Sequence[str]]) -> t.Dict[str, t.List[str]]:
        """{group: features} asked for (default: every online feature of the entity), each served online."""
        ent = self.registry.entity(entity)
        if features is None:
            served = [g for g in ent.feature_groups if self.registry.groups[g].latest_model]
            if not served:
                raise FeatureStoreError(
                    f"entity '{entity}' has no feature group served online",
                    "set `online: {enabled: true}` on a feature group and translate again",
                )
            return {g: self.registry.groups[g].feature_names for g in served}
        requested = self.registry.resolve(features)
        problems = []
        for g in requested:
            group = self.registry.groups[g]
            if group.entity != entity:
                problems.append(f"{g} belongs to entity '{group.entity}', not '{entity}'")
            elif not group.latest_model:
                problems.append(
                    f"{g} is not served online (no latest-value model: `online` is off in {group.file or group.node})"
                )
        if problems:
            raise FeatureStoreError("cannot serve these features online:\n" + "\n".join(f"  - {p}" for p in problems))
        return requested


def _online_ttl(group: FeatureGroup, ttl: t.Union[TTL, t.Dict[str, TTL]]) -> t.Optional[timedelta]:
    """The TTL applied to a group online: its declared one (`"declared"`), one for all, or one per group."""
    if ttl == "declared":
        return parse_ttl(group.online_ttl, f"online.ttl of {group.name}")
    if isinstance(ttl, dict):
        return parse_ttl(ttl.get(group.name), f"ttl of {group.name}")
    return parse_ttl(ttl)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp() * 1000)


def _arrow_types(table: pa.Table, con: t.Any) -> t.Dict[str, exp.DataType]:
    """The spine's columns as SQL types (DuckDB's reading of the Arrow schema)."""
    import duckdb

    probe = duckdb.connect() if con is None else con
    probe.register(SPINE_PROBE, table.slice(0, 0))
    try:
        rows = probe.execute(
            to_sql(exp.Describe(this=q.select(exp.Star(), source=sqlkit.table(SPINE_PROBE))))
        ).fetchall()
    finally:
        probe.unregister(SPINE_PROBE)
    return {r[0]: exp.DataType.build(r[1], dialect="duckdb") for r in rows}


def _default_as_of(types: t.Dict[str, exp.DataType]) -> str:
    if DEFAULT_AS_OF in types:
        return DEFAULT_AS_OF
    temporal = [c for c, ty in types.items() if ty.this in TEMPORAL]
    if len(temporal) == 1:
        return temporal[0]
    raise FeatureStoreError(
        "name the spine's time column (as_of_column / --as-of-column): "
        + (f"it has several ({', '.join(temporal)})" if temporal else "it has no date or timestamp column")
    )


def _versions() -> t.Dict[str, str]:
    from importlib.metadata import version

    out = {}
    for package in ("seeknal-sqlmesh", "sqlmesh", "duckdb"):
        with contextlib.suppress(Exception):  # a package installed without metadata: record the others
            out[package] = version(package)
    return out


# ---- one-call API ----------------------------------------------------------------------------------------------


def get_historical_features(
    spine: training.SpineLike,
    features: t.Sequence[str],
    env: str = "prod",
    *,
    project: t.Union[str, Path] = ".",
    as_of_column: t.Optional[str] = None,
    ttl: t.Union[TTL, t.Dict[str, TTL]] = None,
    full_feature_names: bool = False,
    form: t.Optional[str] = None,
    output: t.Union[str, Path, None] = None,
):
    """A point-in-time training set as a pandas DataFrame (its manifest in `.attrs["seeknal_manifest"]`).

    `spine`: DataFrame, Arrow table or .parquet/.csv path with the entities' join keys and a time column
    (`as_of_column`, default `event_time` or the only date/timestamp column). `features`: `group.feature` or
    `group.*`. `ttl`: one duration for every group or `{group: duration}`. `output`: also write .parquet/.csv/.json
    with the manifest sidecar. `project`: a Seeknal project (its translation in target/sqlmesh) or a translated one.
    """
    with FeatureStore(project, env) as store:
        return store.historical(
            spine,
            features,
            as_of_column=as_of_column,
            ttl=ttl,
            full_feature_names=full_feature_names,
            form=form,
            output=output,
        ).to_pandas()


def replay_training_set(
    manifest: t.Union[str, Path],
    *,
    project: t.Union[str, Path, None] = None,
    spine: t.Optional[training.SpineLike] = None,
    output: t.Union[str, Path, None] = None,
):
    recorded = training.read_manifest(manifest)
    with FeatureStore(project or recorded["project"], recorded["environment"]) as store:
        return store.replay(recorded, spine=spine, output=output).to_pandas()


def get_online_features(
    entity: str,
    keys: t.Sequence[t.Any],
    features: t.Optional[t.Sequence[str]] = None,
    env: str = "prod",
    *,
    project: t.Union[str, Path] = ".",
    ttl: t.Any = "declared",
    as_of: t.Optional[datetime] = None,
    full_feature_names: bool = False,
):
    """Latest values per key (pandas DataFrame, one row per key in the order given)."""
    with FeatureStore(project, env) as store:
        return store.online(entity, keys, features, ttl=ttl, as_of=as_of, full_feature_names=full_feature_names)
