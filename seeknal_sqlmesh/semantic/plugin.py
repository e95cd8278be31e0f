"""The semantic-layer plugin: `seeknal query` over the metrics a translated project carries in `seeknal/semantic/`."""

from __future__ import annotations

import typing as t

from seeknal_sqlmesh.plugins import Plugin

if t.TYPE_CHECKING:
    import click


# Metric keys the semantic layer reads beyond Seeknal 2.13's own (MetricFlow-style extensions, `specs.SkMetric`)
METRIC_EXTENSION_KEYS = ("inputs", "window", "period_agg", "fill_nulls_with", "join_to_timespine")


class SemanticPlugin(Plugin):
    name = "semantic"

    def node_keys(self, kind: str) -> t.Collection[str]:
        return METRIC_EXTENSION_KEYS if kind == "metric" else ()

    def commands(self) -> t.Sequence[click.Command]:
        from seeknal_sqlmesh.semantic.cli import query

        return (query,)


plugin = SemanticPlugin()
