"""The feature store's section of the manifest (`plugins.features`): written at translation, read by the registry."""

from __future__ import annotations

import typing as t

from pydantic import BaseModel, ConfigDict

NAME = "features"  # the plugin's name, and the key of its manifest section


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntitySection(_Section):
    join_keys: t.List[str]
    description: str = ""
    feature_groups: t.List[str] = []
    view: t.Optional[str] = None  # feature_store.entity_<entity>, when one could be built


class FeatureGroupSection(_Section):
    node: str
    model: str
    entity: str
    description: str = ""
    owner: t.Optional[str] = None
    online: bool = False
    latest_model: t.Optional[str] = None  # feature_store.<group>__latest, for online groups
    columns: t.Optional[t.List[str]] = None  # output columns in order, when known at translation time


class FeatureStoreSection(_Section):
    entities: t.Dict[str, EntitySection] = {}
    feature_groups: t.Dict[str, FeatureGroupSection] = {}
