"""The StarRocks plugin: engine adapter and `starrocks_mv` kind (registered only for projects with a StarRocks
gateway), MV exposures and `starrocks:` table settings in translation, and the `seeknal starrocks`,
`seeknal deploy-metrics` and `seeknal repl` commands."""

from __future__ import annotations

import typing as t

from seeknal_sqlmesh.plugins import Assembly, Contribution, Plugin
from seeknal_sqlmesh.starrocks import NODE_KEY, TYPE_NAME

if t.TYPE_CHECKING:
    import click

    from seeknal_sqlmesh.project.models import Node
    from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext


class StarRocksPlugin(Plugin):
    name = "starrocks"

    def commands(self) -> t.Sequence[click.Command]:
        from seeknal_sqlmesh.starrocks.cli import deploy_metrics, repl, starrocks

        return (starrocks, deploy_metrics, repl)

    def node_keys(self, kind: str) -> t.Collection[str]:
        """`starrocks:` table settings may sit on any node (`translate.apply_starrocks_properties` warns where they
        do not apply), so the project loader does not report them as unknown keys."""
        return (NODE_KEY,)

    def translate_node(self, node: Node, ctx: TranslationContext) -> t.Optional[NodeTranslation]:
        from seeknal_sqlmesh.starrocks.translate import MV_EXPOSURE_TYPE, translate_exposure

        if node.kind == "exposure" and getattr(node, "type", None) == MV_EXPOSURE_TYPE:
            return translate_exposure(t.cast(t.Any, node), ctx)
        return None

    def assemble(self, assembly: Assembly) -> t.Optional[Contribution]:
        from seeknal_sqlmesh.starrocks.translate import apply_starrocks_properties

        apply_starrocks_properties(assembly.project, assembly.ctx, assembly.pieces)
        return None

    def register_sqlmesh(self, settings: t.Mapping[str, t.Any]) -> None:
        """SQLMesh's `starrocks` type becomes ours only for projects that have a StarRocks gateway."""
        gateways = settings.get("gateways") or {}
        if any((g.get("connection") or {}).get("type") == TYPE_NAME for g in gateways.values()):
            from seeknal_sqlmesh.starrocks import register

            register()


plugin = StarRocksPlugin()
