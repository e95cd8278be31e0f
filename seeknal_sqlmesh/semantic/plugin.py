"""The semantic-layer plugin: `seeknal query` over the metrics a translated project carries in `seeknal/semantic/`."""

from __future__ import annotations

import typing as t

from seeknal_sqlmesh.plugins import Plugin

if t.TYPE_CHECKING:
    import click


class SemanticPlugin(Plugin):
    name = "semantic"

    def commands(self) -> t.Sequence[click.Command]:
        from seeknal_sqlmesh.semantic.cli import query

        return (query,)


plugin = SemanticPlugin()
