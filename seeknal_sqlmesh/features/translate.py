"""The feature store plugin's models in a translated project: latest values and entity views.

(Feature groups themselves are a core node kind: `translators/feature_group.py` makes them incremental by event
time.)

- `feature_store.<group>__latest` (FULL, one row per entity key) holds each key's latest row, for groups with
  `online` enabled: `seeknal features online` reads it instead of scanning history. Being a SQLMesh model it is
  versioned and has a table per environment like everything else.
- `feature_store.entity_<entity>` (INCREMENTAL_BY_TIME_RANGE on `event_time`) is Seeknal's per-entity
  consolidation done right: every (keys, event time) at which any group of the entity has a row (Seeknal keeps only
  the first group's), each group joined on its own event-time column (Seeknal requires a column named
  `event_time`), one struct per group, NULL when that group has no row there.

Which row wins when several share keys and event time is decided by `seeknal_sqlmesh.features.sql`, the same rule
point-in-time retrieval uses.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp

from seeknal_sqlmesh.features import sql as fsql
from seeknal_sqlmesh.features.section import FeatureStoreSection
from seeknal_sqlmesh.project.models import FeatureGroupNode, Project
from seeknal_sqlmesh.translators.base import ModelSpec, NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.feature_group import output_columns

SCHEMA = "feature_store"
ENTITY_TIME = "event_time"


def latest_model_name(group: str) -> str:
    return f"{SCHEMA}.{group}__latest"


def entity_view_name(entity: str) -> str:
    return f"{SCHEMA}.entity_{entity}"


def online_enabled(node: FeatureGroupNode) -> bool:
    online = node.materialization.online
    if isinstance(online, dict):
        return bool(online.get("enabled", True))
    return bool(online)


def _group_spec(node: FeatureGroupNode, piece: NodeTranslation) -> t.Optional[ModelSpec]:
    return next((s for s in piece.models if s.name == node.id), None)


def _model(
    name: str,
    node: FeatureGroupNode,
    source: ModelSpec,
    query: exp.Query,
    kind: t.Dict[str, t.Any],
    grains: t.List[str],
    tags: t.List[str],
    description: str,
) -> ModelSpec:
    spec = ModelSpec(name=name, node=node, query=query, kind=kind)
    spec.grains, spec.tags, spec.description = grains, sorted(tags), description
    spec.owner, spec.dialect, spec.gateway = node.owner, source.dialect, source.gateway
    return spec


def feature_store_models(
    project: Project, ctx: TranslationContext, pieces: t.Dict[str, NodeTranslation]
) -> t.Tuple[t.List[ModelSpec], FeatureStoreSection]:
    """Latest-value and entity-view models, and the `feature_store` section of seeknal/manifest.json.

    Called once every node is translated and has its gateway (they are read from the groups' models).
    """
    models: t.List[ModelSpec] = []
    groups: t.Dict[str, t.Dict[str, t.Any]] = {}
    by_entity: t.Dict[str, t.List[t.Tuple[FeatureGroupNode, ModelSpec, t.List[str]]]] = {}
    for node_id in project.order:
        node = project.nodes[node_id]
        if not isinstance(node, FeatureGroupNode):
            continue
        spec = _group_spec(node, pieces[node_id])
        if spec is None:
            continue
        columns = output_columns(spec, ctx)
        entry: t.Dict[str, t.Any] = {
            "node": node.id,
            "model": spec.name,
            "entity": node.entity.name,
            "description": (node.description or "").strip(),
            "owner": node.owner,
            "online": online_enabled(node),
            "latest_model": None,
            "columns": columns,
        }
        groups[node.name] = entry
        if columns is None:
            ctx.warn(
                node, "", "its output columns are unknown at translation time: no latest-value model or entity view"
            )
            continue
        keys, event_time = list(node.entity.join_keys), node.event_time_col
        missing = [c for c in [*keys, event_time] if c not in columns]
        if missing:
            ctx.warn(
                node,
                "entity" if event_time not in missing else "materialization.event_time_col",
                f"{', '.join(missing)} not among its output columns: the feature store cannot serve it",
            )
            continue
        features = [c for c in columns if c not in keys and c != event_time]
        by_entity.setdefault(node.entity.name, []).append((node, spec, features))
        if entry["online"] and features:
            name = latest_model_name(node.name)
            query = fsql.latest_value_query(spec.name, keys, event_time, features)
            models.append(
                _model(
                    name,
                    node,
                    spec,
                    query,
                    {"name": "FULL"},
                    keys,
                    ["seeknal:feature_store", f"entity:{node.entity.name}", f"feature_group:{node.name}"],
                    f"Latest row per {node.entity.name} of {spec.name}, for online serving",
                )
            )
            entry["latest_model"] = name

    entities: t.Dict[str, t.Dict[str, t.Any]] = {}
    for entity, members in sorted(by_entity.items()):
        first = members[0][0]
        entry = {
            "join_keys": list(first.entity.join_keys),
            "description": first.entity.description,
            "feature_groups": sorted(n.name for n, _, _ in members),
            "view": None,
        }
        entities[entity] = entry
        reason = _no_view_reason(members)
        if reason:
            ctx.warn(first, "entity", f"no entity view for '{entity}': {reason}")
            continue
        members = sorted(members, key=lambda m: m[0].name)
        parts = [(n.name, s.name, n.event_time_col, f) for n, s, f in members]

        def interval() -> t.Tuple[exp.Expr, exp.Expr]:
            from sqlmesh.core import dialect as d

            as_ts = exp.DataType.build("TIMESTAMP")
            return (
                exp.Cast(this=d.MacroVar(this="start_ts"), to=as_ts),
                exp.Cast(this=d.MacroVar(this="end_ts"), to=as_ts.copy()),
            )

        query = fsql.entity_view_query(entry["join_keys"], parts, interval, ENTITY_TIME)
        name = entity_view_name(entity)
        kind: t.Dict[str, t.Any] = {"name": "INCREMENTAL_BY_TIME_RANGE", "time_column": ENTITY_TIME}
        lookback = max((s.kind.get("lookback") or 0 for _, s, _ in members), default=0)
        if lookback:  # intervals a group recomputes are recomputed here too
            kind["lookback"] = lookback
        models.append(
            _model(
                name,
                first,
                members[0][1],
                query,
                kind,
                [*entry["join_keys"], ENTITY_TIME],
                ["seeknal:feature_store", f"entity:{entity}"],
                f"Feature groups of entity {entity} by key and event time, one struct per group",
            )
        )
        entry["view"] = name
    return models, FeatureStoreSection.model_validate(
        {"entities": entities, "feature_groups": dict(sorted(groups.items()))}
    )


def _no_view_reason(members: t.Sequence[t.Tuple[FeatureGroupNode, ModelSpec, t.List[str]]]) -> t.Optional[str]:
    keys = {tuple(n.entity.join_keys) for n, _, _ in members}
    if len(keys) > 1:
        return f"its feature groups use different join keys ({'; '.join(', '.join(k) for k in sorted(keys))})"
    gateways = {s.gateway for _, s, _ in members}
    if len(gateways) > 1:
        return "its feature groups run on different gateways"
    names = {n.name for n, _, _ in members} | {ENTITY_TIME}
    clash = sorted(names & set(members[0][0].entity.join_keys))
    if clash:
        return f"column name clash: {', '.join(clash)}"
    if any(not f for _, _, f in members):
        return "a feature group has no feature columns"
    return None
