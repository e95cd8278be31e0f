"""The feature-store plugin: `seeknal features`, and the latest-value and entity-view models it adds to a
translated project, with its section of the manifest (`FeatureStoreSection`)."""

from __future__ import annotations

import typing as t

from pydantic import BaseModel, ConfigDict

from seeknal_sqlmesh.plugins import Assembly, Contribution, Plugin

if t.TYPE_CHECKING:
    import click

NAME = "features"


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


class FeaturesPlugin(Plugin):
    name = NAME

    def commands(self) -> t.Sequence[click.Command]:
        from seeknal_sqlmesh.features.cli import features

        return (features,)

    def assemble(self, assembly: Assembly) -> t.Optional[Contribution]:
        from seeknal_sqlmesh.features.translate import feature_store_models

        models, section = feature_store_models(assembly.project, assembly.ctx, assembly.pieces)
        if not section.entities and not section.feature_groups:
            return None
        return Contribution(models=models, manifest=section)


plugin = FeaturesPlugin()
