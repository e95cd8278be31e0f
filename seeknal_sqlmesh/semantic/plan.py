"""The query plan: a dialect-independent tree of nodes, built from a `ResolvedQuery`.

Nodes (every node yields one row per value of the query's group-by keys):
- `Aggregate`: measures of one semantic model aggregated at the query grain, after many-to-one joins only (entities
  foreign -> primary/unique, any number of hops). Measures of different models are never aggregated over the same
  join, so a join can never multiply a sum (no fan-out); they meet only after aggregation, in `Compute`.
- `Cumulative`: a measure over a trailing window, grain-to-date or all time, computed per day against a time spine
  and reduced to the query grain with the metric's period aggregation (first / last / average).
- `Shift`: an input metric looked up `n` periods earlier (`offset_window`) or at the start of a coarser period
  (`offset_to_grain`), through the time spine.
- `SpineJoin`: `join_to_timespine`: every period of the spine, with the metric where it has rows.
- `Compute`: combines values of several nodes on the group-by keys and evaluates ratio / derived expressions; the
  root of every plan is one.

Values are referenced through `ValueRef`s (node, column, fill_nulls_with); expressions in `Compute` are sqlglot trees
whose leaves are placeholder columns named by the refs' ids.
"""

from __future__ import annotations

import itertools
import typing as t
from dataclasses import dataclass, field

from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError
from seeknal_sqlmesh.semantic.filters import ParsedFilter, parse_filter
from seeknal_sqlmesh.semantic.query import GroupBy, ResolvedQuery, TimeRange
from seeknal_sqlmesh.semantic.resolve import ResolvedManifest, parse_expr, split_grain


@dataclass(frozen=True)
class Filter:
    """A parsed filter; `bindings` maps its names to query group-by specs (query filters) or is None (definition
    filters: names resolve against the model, falling back to the model's raw columns)."""

    parsed: ParsedFilter
    bindings: t.Optional[t.Mapping[str, GroupBy]] = field(default=None, compare=False, hash=False)

    @property
    def on_metric_time(self) -> bool:
        if self.bindings is not None:
            return any(g.kind == "metric_time" for g in self.bindings.values())
        return any(split_grain(n)[0] == "metric_time" for n in self.parsed.names)

    @property
    def key(self) -> t.Tuple[str, bool]:
        return (self.parsed.text, self.bindings is None)


class Node:
    label: str = "node"


@dataclass(eq=False)
class Source:
    """Rows of one semantic model with the joins its keys and filters need, filtered."""

    model: ir.SemanticModel
    time_dim: t.Optional[ir.Dimension]
    filters: t.Tuple[Filter, ...]
    time_range: t.Optional[TimeRange] = None  # pushed down onto time_dim
    end_only: bool = False  # cumulative inputs: only the end of the range bounds the rows


@dataclass(eq=False)
class MeasureColumn:
    """A measure aggregated over the rows that also satisfy `conditions` (the metric's own filters)."""

    measure: ir.Measure
    conditions: t.Tuple[Filter, ...]
    name: str


@dataclass(eq=False)
class Aggregate(Node):
    """Measures of one model in one scan; metrics with their own filters become conditional aggregates."""

    source: Source
    columns: t.List[MeasureColumn] = field(default_factory=list)
    label: str = "agg"

    @property
    def measures(self) -> t.List[ir.Measure]:
        return list(dict.fromkeys(c.measure for c in self.columns))

    def add(self, measure: ir.Measure, conditions: t.Tuple[Filter, ...]) -> str:
        key = tuple(sorted({f.key for f in conditions}))
        for c in self.columns:
            if c.measure is measure and tuple(sorted({f.key for f in c.conditions})) == key:
                return c.name
        taken = {c.name for c in self.columns}
        name, i = measure.name, 1
        while name in taken:
            i += 1
            name = f"{measure.name}_{i}"
        self.columns.append(MeasureColumn(measure, conditions, name))
        return name


@dataclass(eq=False)
class Cumulative(Node):
    source: Source
    measure: ir.Measure
    driving: GroupBy
    window: t.Optional[ir.Offset] = None
    grain_to_date: t.Optional[str] = None
    period_agg: str = "first"
    bounds: t.Optional[TimeRange] = None
    label: str = "cumulative"

    def column(self) -> str:
        return self.measure.name


@dataclass(eq=False)
class Shift(Node):
    input: Node
    input_column: str
    offset: ir.Offset
    driving: GroupBy
    bounds: t.Optional[TimeRange] = None
    label: str = "offset"


@dataclass(eq=False)
class SpineJoin(Node):
    input: Node
    input_column: str
    driving: GroupBy
    bounds: t.Optional[TimeRange] = None
    label: str = "timespine"


@dataclass(frozen=True, eq=False)
class ValueRef:
    id: str
    node: Node
    column: str
    fill: t.Optional[float] = None


@dataclass(eq=False)
class Compute(Node):
    outputs: t.List[t.Tuple[str, exp.Expression]]
    refs: t.Dict[str, ValueRef]
    label: str = "metrics"

    def nodes(self) -> t.List[Node]:
        out: t.List[Node] = []
        for name, expr in self.outputs:
            for col in expr.find_all(exp.Column):
                ref = self.refs.get(col.name)
                if ref is not None and ref.node not in out:
                    out.append(ref.node)
        return out


@dataclass
class QueryPlan:
    query: ResolvedQuery
    root: Compute
    post_filters: t.List[Filter] = field(default_factory=list)
    post_time: t.Optional[t.Tuple[GroupBy, TimeRange]] = None
    distinct_source: t.Optional[Source] = None  # dimension-only queries

    @property
    def group_by(self) -> t.List[GroupBy]:
        return self.query.group_by

    def walk(self) -> t.Iterator[Node]:
        seen: t.List[Node] = []

        def visit(node: Node):
            if any(node is s for s in seen):
                return
            seen.append(node)
            if isinstance(node, Compute):
                for ref in node.refs.values():
                    yield from visit(ref.node)
            elif isinstance(node, (Shift, SpineJoin)):
                yield from visit(node.input)
            yield node

        yield from visit(self.root)


class Planner:
    def __init__(self, res: ResolvedManifest, query: ResolvedQuery):
        self.res = res
        self.q = query
        self.aggregates: t.Dict[tuple, Aggregate] = {}
        self._ids = itertools.count()
        self.refs: t.Dict[str, ValueRef] = {}
        self.time_sensitive: t.Optional[GroupBy] = None

    # ---------------------------------------------------------------- entry
    def plan(self) -> QueryPlan:
        query_filters = tuple(Filter(p, b) for p, b in self.q.where)
        if not self.q.metrics:
            model = self.res.models[self.q.models[0]]
            src = Source(
                model,
                model.dimension(model.agg_time_dimension) if model.agg_time_dimension else None,
                query_filters,
                self.q.time_range if model.agg_time_dimension else None,
            )
            return QueryPlan(self.q, Compute([], {}), distinct_source=src)
        outputs = []
        for asked, metric in self.q.metrics:
            outputs.append((asked, self.metric_expr(metric, query_filters, under_time_op=False)))
        root = Compute(outputs, dict(self.refs))
        plan = QueryPlan(self.q, root)
        if self.time_sensitive is not None:
            driving = self.time_sensitive
            for f in query_filters:
                if f.on_metric_time:
                    plan.post_filters.append(f)
            if self.q.time_range is not None:
                plan.post_time = (driving, self.q.time_range)
        return plan

    # ---------------------------------------------------------------- helpers
    def _ref(self, node: Node, column: str, fill: t.Optional[float] = None) -> exp.Expression:
        ref = ValueRef(f"__ref{next(self._ids)}", node, column, fill)
        self.refs[ref.id] = ref
        return exp.column(ref.id)

    def _definition_filters(self, texts: t.Sequence[str]) -> t.Tuple[Filter, ...]:
        return tuple(Filter(parse_filter(text)) for text in texts)

    def driving_key(self, measures: t.Sequence[ir.Measure]) -> t.Optional[GroupBy]:
        """The finest group-by that is the measures' own time (metric_time or their agg time dimension)."""
        best = None
        for g in self.q.group_by:
            if not g.grain or not self.is_own_time(g, measures):
                continue
            if best is None or ir.GRAIN_RANK[g.grain] < ir.GRAIN_RANK[best.grain]:
                best = g
        return best

    def is_own_time(self, g: GroupBy, measures: t.Sequence[ir.Measure]) -> bool:
        return self.res.is_own_time(g, measures)

    def _check_spine_grain(self, driving: GroupBy, what: str) -> None:
        if driving.grain == "hour":
            raise QueryError(f"{what} needs a time spine, which is daily: query it at day grain or coarser")

    def _source(
        self, measure: ir.Measure, filters: t.Tuple[Filter, ...], under_time_op: bool, end_only=False
    ) -> Source:
        model = self.res.models[measure.model]
        time_dim = self.res.agg_time_dimension(measure)
        if under_time_op:
            filters = tuple(f for f in filters if not (f.bindings is not None and f.on_metric_time))
        time_range = None if (under_time_op and not end_only) else self.q.time_range
        if time_range is not None and time_dim is None:
            raise QueryError(
                f"measure '{measure.name}' has no aggregation time dimension, so a start/end time cannot apply to it"
            )
        if end_only and time_range is not None:
            time_range = TimeRange(None, time_range.end)
        return Source(model, time_dim, filters, time_range, end_only)

    # ---------------------------------------------------------------- metrics
    def measure_value(
        self,
        measure: ir.Measure,
        filters: t.Tuple[Filter, ...],
        under_time_op: bool,
        fill: t.Optional[float] = None,
        spine: bool = False,
    ) -> exp.Expression:
        # the query's filters are shared by every measure of a scan; a metric's own filters only condition its column
        src = self._source(measure, tuple(f for f in filters if f.bindings is not None), under_time_op)
        conditions = tuple(f for f in filters if f.bindings is None)
        key = (
            measure.model,
            src.time_dim.name if src.time_dim else None,
            tuple(sorted(f.key for f in src.filters)),
            src.time_range,
            src.end_only,
        )
        agg = self.aggregates.get(key)
        if agg is None:
            agg = self.aggregates[key] = Aggregate(src)
        column = agg.add(measure, conditions)
        if spine:
            driving = self.driving_key([measure])
            if driving is not None:
                self._check_spine_grain(driving, f"join_to_timespine of '{measure.name}'")
                node = SpineJoin(agg, column, driving, self.q.time_range)
                self.time_sensitive = self.time_sensitive or driving
                return self._ref(node, column, fill)
        return self._ref(agg, column, fill)

    def metric_expr(self, metric: ir.Metric, filters: t.Tuple[Filter, ...], under_time_op: bool) -> exp.Expression:
        filters = filters + self._definition_filters(metric.filters)
        if metric.type == "simple":
            measure = self.res.measures[metric.measure.name]
            fs = filters + self._definition_filters(metric.measure.filters)
            return self.measure_value(measure, fs, under_time_op, metric.fill_nulls_with, metric.join_to_timespine)
        if metric.type == "cumulative":
            measure = self.res.measures[metric.measure.name]
            driving = self.driving_key([measure])
            if driving is None:
                if metric.window or metric.grain_to_date:  # as MetricFlow: a window needs a time to end at
                    span = str(metric.window) if metric.window else f"{metric.grain_to_date} to date"
                    raise QueryError(
                        f"cumulative metric '{metric.name}' accumulates over {span}: add metric_time (or "
                        f"its time dimension) at a grain to the group-by"
                    )
                # all-time accumulation without a time key: the aggregate over the whole (constrained) range
                return self.measure_value(measure, filters, under_time_op, metric.fill_nulls_with)
            self._check_spine_grain(driving, f"cumulative metric '{metric.name}'")
            src = self._source(measure, filters, True, end_only=True)
            node = Cumulative(
                src, measure, driving, metric.window, metric.grain_to_date, metric.period_agg, self.q.time_range
            )
            self.time_sensitive = self.time_sensitive or driving
            return self._ref(node, node.column(), metric.fill_nulls_with)
        if metric.type == "ratio":
            num = self.input_expr(metric.numerator, filters, under_time_op)
            den = self.input_expr(metric.denominator, filters, under_time_op)
            double = exp.DataType.build("double")
            return exp.Div(
                this=exp.Cast(this=num, to=double),
                expression=exp.Cast(this=exp.Nullif(this=den, expression=exp.Literal.number(0)), to=double.copy()),
            )
        # derived
        values = {}
        for inp in metric.inputs:
            values[inp.alias or inp.name] = self.input_expr(inp, filters, under_time_op)
        tree = parse_expr(metric.expr or "")

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column) and node.name in values:
                return exp.paren(values[node.name].copy(), copy=False)
            return node

        return tree.transform(swap, copy=False)

    def input_expr(self, inp: ir.MetricInput, filters: t.Tuple[Filter, ...], under_time_op: bool) -> exp.Expression:
        fs = filters + self._definition_filters(inp.filters)
        if inp.offset is None:
            if inp.is_measure:
                return self.measure_value(self.res.measures[inp.name], fs, under_time_op)
            return self.metric_expr(self.res.metrics[self.res.metric_names[inp.name]], fs, under_time_op)
        measures = (
            [self.res.measures[inp.name]] if inp.is_measure else self.res.measures_of(self.res.metric_names[inp.name])
        )
        driving = self.driving_key(measures)
        if driving is None:
            raise QueryError(
                f"input '{inp.alias or inp.name}' is offset by {inp.offset}: add metric_time (at a grain, e.g. "
                "metric_time__month) to the group-by"
            )
        self._check_spine_grain(driving, f"the offset of '{inp.alias or inp.name}'")
        if inp.offset.unit and ir.GRAIN_RANK[inp.offset.unit] < ir.GRAIN_RANK[driving.grain]:
            raise QueryError(
                f"an offset of {inp.offset} cannot be applied at {driving.grain} grain; query a grain of "
                f"{inp.offset.unit} or finer"
            )
        if inp.is_measure:
            inner = self.measure_value(self.res.measures[inp.name], fs, True)
        else:
            inner = self.metric_expr(self.res.metrics[self.res.metric_names[inp.name]], fs, True)
        node, column = self.materialize(inner)
        self.time_sensitive = self.time_sensitive or driving
        return self._ref(Shift(node, column, inp.offset, driving, self.q.time_range), column)

    def materialize(self, expr: exp.Expression) -> t.Tuple[Node, str]:
        if isinstance(expr, exp.Column) and expr.name in self.refs and self.refs[expr.name].fill is None:
            ref = self.refs[expr.name]
            return ref.node, ref.column
        refs = {c.name: self.refs[c.name] for c in expr.find_all(exp.Column) if c.name in self.refs}
        return Compute([("value", expr)], refs, label="input"), "value"


def build_plan(res: ResolvedManifest, query: ResolvedQuery) -> QueryPlan:
    return Planner(res, query).plan()
