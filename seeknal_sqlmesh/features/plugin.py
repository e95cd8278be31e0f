"""The feature-store plugin: `seeknal features`, and the latest-value and entity-view models it adds to a
translated project, with its section of the manifest (`section.py`)."""

from __future__ import annotations

import typing as t

from seeknal_sqlmesh.features.section import NAME
from seeknal_sqlmesh.plugins import Assembly, Contribution, Plugin

if t.TYPE_CHECKING:
    import click


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
