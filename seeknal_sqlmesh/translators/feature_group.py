"""`feature_group` nodes -> a model whose grain is the entity's join keys plus the event time.

Seeknal runs the group's `transform` with its first input registered as the table `source` (other inputs by
their `<kind>.<name>`), or takes the first input as is. Entity, event time and feature descriptions are carried
into the model (column descriptions, grain, tags) and into `seeknal/manifest.json` for the feature store.
Seeknal's `features:` does not filter columns (every result column is stored); neither do we.

A feature group with its event-time column among its outputs becomes INCREMENTAL_BY_TIME_RANGE on that column
(unless a `materializations:` entry already chose a kind): SQLMesh then writes each daily interval of event time
once, and a run costs only the new intervals. `materialization.lookback: N` (an extension; Seeknal ignores it)
recomputes the last N intervals on every run, for groups whose rows change after their event time (monthly
aggregates stamped with the first day of the month).
"""

from __future__ import annotations

import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import FeatureGroupNode
from seeknal_sqlmesh.translators.base import ModelSpec, NodeTranslation, TranslationContext
from seeknal_sqlmesh.translators.kinds import sql_model
from seeknal_sqlmesh.translators.schema import oracle
from seeknal_sqlmesh.translators.transform import translate_sql


def output_columns(spec: ModelSpec, ctx: t.Optional[TranslationContext] = None) -> t.Optional[t.List[str]]:
    """The feature group model's output columns in order, or None when they cannot be known here."""
    if spec.python_source is not None or spec.query is None:
        return list(spec.columns) or None
    names = list(spec.query.named_selects)
    if "*" not in names and all(names):
        return names
    if ctx is None:
        return None
    try:  # `SELECT *` (a group without `transform`): read the columns from a sample
        return list(oracle(ctx).sample(spec.node.id).columns)
    except Exception:
        return None


def incremental_by_event_time(node: FeatureGroupNode, spec: ModelSpec) -> None:
    """FULL -> INCREMENTAL_BY_TIME_RANGE on the event-time column, when that column is an output."""
    columns = output_columns(spec)
    if spec.kind.get("name") != "FULL" or (columns is not None and node.event_time_col not in columns):
        return
    kind: t.Dict[str, t.Any] = {"name": "INCREMENTAL_BY_TIME_RANGE", "time_column": node.event_time_col}
    lookback = node.materialization.lookback
    if lookback is not None and lookback > 0:
        kind["lookback"] = lookback
    spec.kind = kind


def feature_metadata(node: FeatureGroupNode, spec: ModelSpec) -> t.Dict[str, t.Any]:
    """Grain (entity keys + event time), incremental by event time, feature descriptions and the manifest entry the
    feature store reads."""
    spec.grains = [*node.entity.join_keys, node.event_time_col]
    incremental_by_event_time(node, spec)
    spec.tags = sorted({*spec.tags, f"entity:{node.entity.name}"})
    for feature, meta in node.features.items():
        if meta.description:
            spec.column_descriptions.setdefault(feature, meta.description)
    return {
        "entity": {
            "name": node.entity.name,
            "join_keys": node.entity.join_keys,
            "description": node.entity.description,
        },
        "event_time_col": node.event_time_col,
        "features": {k: {"description": v.description, "dtype": v.dtype} for k, v in node.features.items()},
        "online_ttl": node.online_ttl,
        "offline": node.materialization.offline if isinstance(node.materialization.offline, (bool, dict)) else True,
    }


def translate(node: FeatureGroupNode, ctx: TranslationContext) -> NodeTranslation:
    out = NodeTranslation()
    if not node.inputs:
        ctx.error(node, "inputs", "a feature group needs at least one input")
        return out
    first = node.inputs[0]
    if node.transform:
        result = translate_sql(node, node.transform, ctx, "transform", aliases={"source": first})
        if result is None:
            return out
        query, pre = result
    else:
        query, pre = exp.select("*").from_(ctx.table_of(first)), []
    spec = sql_model(node, ctx, query, pre_statements=pre)
    out.metadata = feature_metadata(node, spec)
    out.models.append(spec)
    return out
