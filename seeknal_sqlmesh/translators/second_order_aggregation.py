"""`second_order_aggregation` (SOA) nodes -> one SQL model named `second_order_aggregation.<name>`.

Reproduces the SQL of Seeknal 2.13's `SecondOrderAggregator` (shared/reference/seeknal.md §3.5), built with
sqlglot expression builders:

    WITH calcs AS (
      SELECT *, date_diff('day', CAST("<feature_date_col>" AS DATE), CAST("<application_date_col>" AS DATE)) AS _days_between
      FROM <source>)
    SELECT "<id_col>",
      <agg>("<sf>") FILTER (WHERE _days_between >= 0)              AS "<sf>_<AGG>",             -- basic
      <agg>("<sf>") FILTER (WHERE _days_between BETWEEN lo AND hi) AS "<sf>_<AGG>_<lo>_<hi>",   -- window
      CAST(<agg>("<sf>") FILTER (WHERE _days_between BETWEEN nl AND nu) AS DOUBLE)
        / NULLIF(CAST(<agg>("<sf>") FILTER (WHERE _days_between BETWEEN dl AND du) AS DOUBLE), 0)
                                                                   AS "<sf>_<AGG><nl>_<nu>_<AGG><dl>_<du>",  -- ratio
      <agg>("<sf>") FILTER (WHERE <condition>)                     AS "SINCE_<AGG>_<sf>_GEO_D"  -- since
    FROM calcs GROUP BY "<id_col>"

- `<sf>` is `source_feature` (default: the feature key); the YAML feature key is not part of the names.
- `<AGG>` is the agg **as written, upper-cased** (`mean` -> `MEAN` although the SQL is `avg`). Agg map: count, sum,
  mean|avg -> avg, min, max, std|stddev -> stddev; any other function name is passed through as is (as Seeknal does).
- `window: [lo, hi]` uses the feature's `basic` aggs; a feature with a window also emits its plain basic columns.
- `since: {condition, aggs}`: the condition is parsed with sqlglot (Seeknal's `==` is read as `=`). It is not
  combined with `_days_between`, exactly as in Seeknal.
- Columns are emitted feature by feature (YAML order), within a feature: basic, window, ratio, since.
- Repeated output names (e.g. two features emitting `amount_SUM`, or two `since` on the same source feature) are
  renamed as DuckDB renames them in Seeknal's result (`amount_SUM_1`, see `aggregation.duckdb_dedupe`): the reference
  documents this behaviour as verified, and DuckDB's renaming is deterministic given the column order above. We
  write the final names as explicit aliases so the SQLMesh model has unique columns.
- Upper-case names survive SQLMesh's identifier normalization through the model dialect
  `duckdb,normalization_strategy=case_sensitive` (see `kinds.preserve_column_case`).
- `sum` results are CAST to DOUBLE (Seeknal's parquet output stores the HUGEINT of an integer SUM as DOUBLE; see
  `aggregation.persisted_type`); the only change to Seeknal's SQL text besides explicit de-duplicated aliases.
- `percentile` / `delta` pass Seeknal's validation and are ignored by its engine: we ignore them too, with a warning.

Source: Seeknal only matches `source:` by its name part against aggregation/transform outputs. We require a
`<kind>.<name>` that is a node of the project, and accept a bare `<name>` only when exactly one node has that name
(an error lists the candidates otherwise).
"""

from __future__ import annotations

import typing as t

from sqlglot import exp

from seeknal_sqlmesh.project.models import SecondOrderAggregationNode
from seeknal_sqlmesh.sqlkit import alias, col
from seeknal_sqlmesh.translators.aggregation import (
    agg_call,
    agg_list,
    duckdb_dedupe,
    int_list,
    parse_condition,
    persisted_type,
    safe_ratio,
    translate_generated,
    warn_if_not_input,
)
from seeknal_sqlmesh.translators.base import NodeTranslation, TranslationContext

AGG_MAP = {
    "count": "count",
    "sum": "sum",
    "mean": "avg",
    "avg": "avg",
    "min": "min",
    "max": "max",
    "std": "stddev",
    "stddev": "stddev",
}
CALCS = "calcs"
DAYS = "_days_between"


def data_source(node: SecondOrderAggregationNode, ctx: TranslationContext) -> t.Optional[str]:
    source = node.source.strip()
    nodes = ctx.project.nodes
    if source in nodes:
        warn_if_not_input(node, source, ctx)
        return source
    name = source.split(".", 1)[-1]
    candidates = sorted(n for n in nodes if n.split(".", 1)[1] == name and n != node.id)
    if "." not in source and len(candidates) == 1:
        warn_if_not_input(node, candidates[0], ctx)
        return candidates[0]
    if candidates and "." not in source:
        ctx.error(
            node, "source", f"source '{source}' matches several nodes", f"write it as one of: {', '.join(candidates)}"
        )
    elif candidates:
        ctx.error(
            node,
            "source",
            f"unknown source node '{source}' (Seeknal only matches the name part; we need the node id)",
            f"did you mean {', '.join(candidates)}?",
        )
    else:
        ctx.error(
            node,
            "source",
            f"unknown source node '{source}'",
            "write the source as <kind>.<name> of a node of this project",
        )
    return None


def _agg(agg: str, column: str, where: exp.Expr, *, persisted: bool = True) -> exp.Expr:
    filtered = exp.Filter(this=agg_call(AGG_MAP.get(agg.lower(), agg), col(column)), expression=exp.Where(this=where))
    return persisted_type(agg, filtered) if persisted else filtered


def _days() -> exp.Column:
    return exp.column(DAYS)


def _between(lo: int, hi: int) -> exp.Expr:
    return _days().between(exp.Literal.number(lo), exp.Literal.number(hi))


def build_query(node: SecondOrderAggregationNode, source: exp.Table, ctx: TranslationContext) -> t.Optional[exp.Query]:
    errors_before = len(ctx.problems.items)
    columns: t.List[t.Tuple[str, exp.Expr]] = []
    for key, feature in node.features.items():
        where = f"features.{key}"
        sf = feature.source_feature or key
        basic = agg_list(node, feature.basic, ctx, f"{where}.basic") if feature.basic else []
        basic = basic or []
        for agg in basic:
            columns.append(
                (f"{sf}_{agg.upper()}", _agg(agg, sf, exp.GTE(this=_days(), expression=exp.Literal.number(0))))
            )
        if feature.window is not None:
            window = int_list(node, feature.window, ctx, f"{where}.window", length=2, negative=True)
            if window is not None:
                lo, hi = window
                if not basic:
                    ctx.warn(
                        node,
                        f"{where}.window",
                        "a window without 'basic' aggs produces no column (as in Seeknal)",
                        "add e.g. basic: [sum]",
                    )
                if lo > hi:
                    ctx.warn(
                        node,
                        f"{where}.window",
                        f"window [{lo}, {hi}] is empty (lower > upper): its columns are always NULL or 0",
                    )
                for agg in basic:
                    columns.append((f"{sf}_{agg.upper()}_{lo}_{hi}", _agg(agg, sf, _between(lo, hi))))
        if feature.ratio is not None:
            ratio = feature.ratio if isinstance(feature.ratio, dict) else {}
            num = int_list(node, ratio.get("numerator"), ctx, f"{where}.ratio.numerator", length=2, negative=True)
            den = int_list(node, ratio.get("denominator"), ctx, f"{where}.ratio.denominator", length=2, negative=True)
            aggs = agg_list(node, ratio.get("aggs"), ctx, f"{where}.ratio.aggs")
            if num is not None and den is not None and aggs is not None:
                for agg in aggs:
                    a = agg.upper()
                    name = f"{sf}_{a}{num[0]}_{num[1]}_{a}{den[0]}_{den[1]}"
                    columns.append(
                        (
                            name,
                            safe_ratio(
                                _agg(agg, sf, _between(*num), persisted=False),
                                _agg(agg, sf, _between(*den), persisted=False),
                            ),
                        )
                    )
        if feature.since is not None:
            since = feature.since if isinstance(feature.since, dict) else {}
            condition = parse_condition(node, since.get("condition"), ctx, f"{where}.since.condition")
            aggs = agg_list(node, since.get("aggs"), ctx, f"{where}.since.aggs")
            if condition is not None and aggs is not None:
                for agg in aggs:
                    columns.append((f"SINCE_{agg.upper()}_{sf}_GEO_D", _agg(agg, sf, condition.copy())))
        ignored = [k for k, v in (("percentile", feature.percentile), ("delta", feature.delta)) if v is not None]
        if ignored:
            ctx.warn(node, where, f"{', '.join(ignored)} is ignored by Seeknal 2.13's engine: no column is produced")
        if not (feature.basic or feature.window or feature.ratio or feature.since) and not ignored:
            ctx.warn(node, where, "feature produces no column (needs basic, window + basic, ratio or since)")
    if len(ctx.problems.items) > errors_before:
        return None

    names = duckdb_dedupe([node.id_col, *(name for name, _ in columns)])[1:]
    days_between = exp.DateDiff(
        this=exp.cast(col(node.application_date_col), exp.DataType.build("DATE")),
        expression=exp.cast(col(node.feature_date_col), exp.DataType.build("DATE")),
        unit=exp.var("DAY"),
    )
    calcs = exp.select(exp.Star(), exp.alias_(days_between, DAYS)).from_(source)
    select = exp.select(col(node.id_col), *[alias(expr, name) for name, (_, expr) in zip(names, columns, strict=True)])
    return select.from_(exp.to_table(CALCS)).with_(CALCS, as_=calcs).group_by(col(node.id_col))


def translate(node: SecondOrderAggregationNode, ctx: TranslationContext) -> NodeTranslation:
    return translate_generated(node, ctx, data_source, build_query, [node.id_col])
