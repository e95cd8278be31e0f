"""What a translated project offers: entities and feature groups, read from the typed manifest (`contract.py`).

`seeknal translate` writes the manifest (per feature group: entity, event-time column, declared features, online
TTL; and a `feature_store` section with output columns, latest-value models and entity views). This module only
reads it; what SQLMesh built, per environment, comes from SQLMesh's state (`store.py`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from seeknal_sqlmesh.contract import Manifest
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.features.section import NAME, FeatureStoreSection


@dataclass
class Feature:
    name: str
    description: str = ""
    dtype: t.Optional[str] = None  # declared in the Seeknal project (`features: {name: {dtype}}`)
    declared: bool = True  # False: an output column the project did not declare (Seeknal stores those too)


@dataclass
class FeatureGroup:
    name: str
    node: str  # Seeknal node id, e.g. feature_group.customer_order_features
    model: str  # SQLMesh model
    entity: str
    join_keys: t.List[str]
    event_time: str
    description: str = ""
    owner: t.Optional[str] = None
    online: bool = False
    online_ttl: t.Optional[str] = None
    latest_model: t.Optional[str] = None
    columns: t.Optional[t.List[str]] = None  # output columns in order, when known at translation time
    declared: t.Dict[str, Feature] = field(default_factory=dict)
    file: str = ""

    @property
    def features(self) -> t.List[Feature]:
        """Every output column but the keys and the event time (Seeknal's own definition), declared ones described."""
        if self.columns is None:
            return list(self.declared.values())
        out = []
        for c in self.columns:
            if c in self.join_keys or c == self.event_time:
                continue
            out.append(self.declared.get(c) or Feature(c, declared=False))
        return out

    @property
    def feature_names(self) -> t.List[str]:
        return [f.name for f in self.features]


@dataclass
class Entity:
    name: str
    join_keys: t.List[str]
    description: str = ""
    feature_groups: t.List[str] = field(default_factory=list)
    view: t.Optional[str] = None


class Registry:
    """Entities and feature groups of one translated project."""

    def __init__(self, root: Path, entities: t.Dict[str, Entity], groups: t.Dict[str, FeatureGroup]):
        self.root = root
        self.entities = entities
        self.groups = groups

    @classmethod
    def load(cls, project: t.Union[str, Path]) -> Registry:
        root = Path(project).resolve()
        manifest = Manifest.load(root)
        section = manifest.section(NAME, FeatureStoreSection)
        groups: t.Dict[str, FeatureGroup] = {}
        for node_id, entry in sorted(manifest.nodes.items()):
            if entry.kind != "feature_group" or not entry.models or entry.entity is None or not entry.event_time_col:
                continue
            name = node_id.split(".", 1)[1]
            more = section.feature_groups.get(name)
            groups[name] = FeatureGroup(
                name=name,
                node=node_id,
                model=more.model if more else entry.models[0],
                entity=entry.entity.name,
                join_keys=list(entry.entity.join_keys),
                event_time=entry.event_time_col,
                description=more.description if more else "",
                owner=more.owner if more else None,
                online=bool(more and more.online),
                online_ttl=entry.online_ttl,
                latest_model=more.latest_model if more else None,
                columns=list(more.columns) if more and more.columns is not None else None,
                declared={k: Feature(k, v.description, v.dtype) for k, v in (entry.features or {}).items()},
                file=entry.file,
            )
        entities: t.Dict[str, Entity] = {}
        for name, e in section.entities.items():
            entities[name] = Entity(name, list(e.join_keys), e.description, list(e.feature_groups), e.view)
        for group in groups.values():  # groups whose columns were unknown at translation time have no entity entry
            if group.entity not in entities:
                entities[group.entity] = Entity(group.entity, group.join_keys)
            if group.name not in entities[group.entity].feature_groups:
                entities[group.entity].feature_groups.append(group.name)
        return cls(root, dict(sorted(entities.items())), groups)

    # ---- lookups that explain themselves -------------------------------------------------------------------------

    def group(self, name: str) -> FeatureGroup:
        bare = name.split(".", 1)[1] if name.startswith("feature_group.") else name
        if bare not in self.groups:
            known = ", ".join(self.groups) or "none"
            raise FeatureStoreError(f"no feature group '{name}' in {self.root} (feature groups: {known})")
        return self.groups[bare]

    def entity(self, name: str) -> Entity:
        if name not in self.entities:
            raise FeatureStoreError(
                f"no entity '{name}' in {self.root} (entities: {', '.join(self.entities) or 'none'})"
            )
        return self.entities[name]

    def resolve(self, features: t.Sequence[str]) -> t.Dict[str, t.List[str]]:
        """`["group.feature", "group.*", "group", ...]` -> {group: [features in the order asked]}, checked."""
        if not features:
            raise FeatureStoreError(
                "name at least one feature: <feature_group>.<feature>, or <feature_group>.* for all of a group"
            )
        out: t.Dict[str, t.List[str]] = {}
        problems = []
        for ref in features:
            ref = ref.strip()
            if ref.startswith("feature_group."):
                ref = ref[len("feature_group.") :]
            group_name, _, feature = ref.partition(".")
            if group_name not in self.groups:
                problems.append(
                    f"'{ref}': no feature group '{group_name}' (feature groups: {', '.join(self.groups) or 'none'})"
                )
                continue
            group = self.groups[group_name]
            chosen = group.feature_names if feature in ("", "*") else [feature]
            for f in chosen:
                if f not in group.feature_names:
                    problems.append(
                        f"'{ref}': feature group '{group_name}' has no feature '{f}' "
                        f"(features: {', '.join(group.feature_names) or 'none'})"
                    )
                elif f not in out.setdefault(group_name, []):
                    out[group_name].append(f)
        if problems:
            raise FeatureStoreError("unknown features:\n" + "\n".join(f"  - {p}" for p in problems))
        return out
