"""Planning: a `ResolvedQuery` becomes a `QueryPlan` (plan.py).

Everything that needs the resolved manifest happens here: each metric is expanded into the nodes that compute it,
every name a node uses (group-by keys, filter names, measure and dimension expressions, join paths) is resolved
against the model it is read from, and filters are parsed. The plan that comes out is complete: rendering never
looks a name up or parses SQL.

Measures of one model that share the same rows (same filters, time dimension and time constraint) are aggregated in
one scan. An `Aggregate` collects its measures while the metrics are planned, so the planner first builds drafts and
seals them into frozen nodes at the end (`_seal`).
"""

from __future__ import annotations

import itertools
import typing as t
from dataclasses import dataclass, field

from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError
from seeknal_sqlmesh.semantic.filters import FilterError, ParsedFilter, parse_filter
from seeknal_sqlmesh.semantic.plan import (
    Aggregate,
    Compute,
    Condition,
    Cumulative,
    DistinctKeys,
    Key,
    Measure,
    MeasureColumn,
    ModelExpr,
    Node,
    OutputColumn,
    OutputFilter,
    OutputKey,
    PlanVisitor,
    QueryPlan,
    Shift,
    Source,
    SpineJoin,
    ValueRef,
)
from seeknal_sqlmesh.semantic.query import GroupBy, ResolvedQuery, TimeRange
from seeknal_sqlmesh.semantic.resolve import ResolvedManifest, parse_expr, split_grain
from seeknal_sqlmesh.sqlkit import Expr, cast, col

T = t.TypeVar("T")


@dataclass(frozen=True)
class _Filter:
    """A parsed filter while planning. `bindings` maps its names to group-by specs (query filters); None for
    definition filters (metric / input filters: names resolve against each model, else are its raw columns)."""

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


def _key_of(filters: t.Iterable[_Filter]) -> t.Tuple[t.Tuple[str, bool], ...]:
    return tuple(sorted({f.key for f in filters}))


class _Binder:
    """Resolves the names one scan uses against its model: keys, filter names, measures."""

    def __init__(self, res: ResolvedManifest, model: ir.SemanticModel, time_dim: t.Optional[ir.Dimension]):
        self.res = res
        self.model = model
        self.time_dim = time_dim

    def time(self) -> Expr:
        if self.time_dim is None:
            raise QueryError(
                f"semantic model '{self.model.name}' has no aggregation time dimension for metric_time "
                "(set default_time_dimension / defaults.agg_time_dimension)"
            )
        return parse_expr(self.time_dim.expr, self.model.dialect)

    def key(self, g: GroupBy) -> ModelExpr:
        grain = None if g.date_part else (g.grain or "day")
        if g.kind == "metric_time":
            return ModelExpr(self.time(), grain=grain, date_part=g.date_part)
        element = self.res.element_for(self.model.name, g.canonical)
        if element is None:
            raise QueryError(f"'{g.name}' is not reachable from semantic model '{self.model.name}'")
        sql = self.res.element_sql(element)
        if g.kind == "time":
            return ModelExpr(sql, element.path, grain, g.date_part)
        return ModelExpr(sql, element.path)

    def name(self, name: str) -> ModelExpr:
        """A name in a definition filter: metric_time, a reachable dimension or entity, else a raw column."""
        base, grain, part = split_grain(name)
        if base == "metric_time":
            return ModelExpr(self.time(), grain=None if part else (grain or "day"), date_part=part)
        element = self.res.lookup(self.model.name, base)
        if element is None or element.kind == "ambiguous":
            return ModelExpr(_raw_column(name))
        sql = self.res.element_sql(element)
        if element.kind == "time" and (grain or part):
            return ModelExpr(sql, element.path, None if part else (grain or "day"), part)
        return ModelExpr(sql, element.path)

    def condition(self, f: _Filter) -> Condition:
        if f.bindings is not None:
            values = {n: self.key(g) for n, g in f.bindings.items()}
        else:
            values = {n: self.name(n) for n in f.parsed.names}
        return Condition(f.parsed.text, f.parsed.expression, values)

    def measure(self, m: ir.Measure) -> Measure:
        return Measure(
            m.name,
            m.agg,
            parse_expr(m.expr, self.model.dialect),
            m.percentile,
            tuple(self._measure_filter(text) for text in m.filters),
        )

    def _measure_filter(self, text: str) -> Condition:
        """Seeknal measure filters: SQL over the model's own columns (dimension names stand for their expression)."""
        parsed = _parse(text)
        values = {}
        for n in parsed.names:
            d = self.model.dimension(n)
            values[n] = ModelExpr(parse_expr(d.expr, self.model.dialect)) if d else ModelExpr(_raw_column(n))
        return Condition(parsed.text, parsed.expression, values)

    def source(self, filters: t.Sequence[_Filter], time_range: t.Optional[TimeRange], end_only: bool = False) -> Source:
        time = self.time() if self.time_dim is not None else None
        conditions = tuple(self.condition(f) for f in filters)
        return Source(self.model.name, self.model.relation, time, conditions, time_range, end_only)


def _raw_column(name: str) -> exp.Column:
    # a column of the user's table, written as the user would: quoted only when the name needs it
    return exp.column(name)


def _parse(text: str) -> ParsedFilter:
    try:
        return parse_filter(text)
    except FilterError as e:  # definition filters are checked at load; this keeps a surprise readable
        raise QueryError(str(e)) from None


class _AggregateDraft(Node):
    """An `Aggregate` while its measures are being collected (sealed into one by the planner)."""

    def __init__(self, binder: _Binder, filters: t.Tuple[_Filter, ...], time_range: t.Optional[TimeRange]):
        self.binder = binder
        self.filters = filters
        self.time_range = time_range
        self.columns: t.List[t.Tuple[str, ir.Measure, t.Tuple[_Filter, ...]]] = []

    def add(self, measure: ir.Measure, conditions: t.Tuple[_Filter, ...]) -> str:
        """The column of `measure` under `conditions` (added unless the same one is there)."""
        key = _key_of(conditions)
        for name, m, c in self.columns:
            if m is measure and _key_of(c) == key:
                return name
        taken = {name for name, _, _ in self.columns}
        name, i = measure.name, 1
        while name in taken:
            i += 1
            name = f"{measure.name}_{i}"
        self.columns.append((name, measure, conditions))
        return name

    def seal(self, group_by: t.Sequence[GroupBy]) -> Aggregate:
        b = self.binder
        keys = tuple(Key(g.name, b.key(g)) for g in group_by)
        columns = tuple(
            MeasureColumn(name, b.measure(m), tuple(b.condition(f) for f in c)) for name, m, c in self.columns
        )
        return Aggregate(b.source(self.filters, self.time_range), keys, columns)

    @property
    def name_hint(self) -> str:  # pragma: no cover - drafts are never rendered
        return "draft"

    def accept(self, visitor: PlanVisitor[T]) -> T:  # pragma: no cover - drafts are never rendered
        raise TypeError("an aggregate draft is sealed before rendering")


class Planner:
    def __init__(self, res: ResolvedManifest, query: ResolvedQuery):
        self.res = res
        self.q = query
        self.aggregates: t.Dict[tuple, _AggregateDraft] = {}
        self._ids = itertools.count()
        self.refs: t.Dict[str, ValueRef] = {}
        self.time_sensitive: t.Optional[GroupBy] = None  # the first driving key of an offset / cumulative / spine
        self._sealed: t.Dict[int, Node] = {}

    # ---------------------------------------------------------------- entry
    def plan(self) -> QueryPlan:
        q = self.q
        keys = tuple(g.name for g in q.group_by)
        query_filters = tuple(_Filter(p, b) for p, b in q.where)
        if not q.metrics:
            model = self.res.models[q.models[0]]
            time_dim = model.dimension(model.agg_time_dimension) if model.agg_time_dimension else None
            binder = _Binder(self.res, model, time_dim)
            distinct_keys = tuple(Key(g.name, binder.key(g)) for g in q.group_by)
            source = binder.source(query_filters, q.time_range if time_dim is not None else None)
            return QueryPlan(keys, DistinctKeys(source, distinct_keys), order_by=tuple(q.order_by), limit=q.limit)
        outputs = tuple(
            (asked, self.metric_expr(metric, query_filters, under_time_op=False)) for asked, metric in q.metrics
        )
        root = self._seal(self._compute(outputs))
        where: t.Tuple[OutputFilter, ...] = ()
        time_range = None
        if self.time_sensitive is not None:
            where = tuple(self._output_filter(f) for f in query_filters if f.on_metric_time)
            if q.time_range is not None:
                time_range = (self.time_sensitive.name, q.time_range)
        return QueryPlan(keys, root, where, time_range, tuple(q.order_by), q.limit)

    # ---------------------------------------------------------------- helpers
    def _ref(self, node: Node, column: str, fill: t.Optional[float] = None) -> Expr:
        ref = ValueRef(f"__ref{next(self._ids)}", node, column, fill)
        self.refs[ref.id] = ref
        return col(ref.id)

    def _compute(self, outputs: t.Tuple[t.Tuple[str, Expr], ...]) -> Compute:
        """A Compute of `outputs`, with the refs they use (in the order they were made: stable column names)."""
        names = {c.name for _, e in outputs for c in e.find_all(exp.Column)}
        return Compute(outputs, {name: ref for name, ref in self.refs.items() if name in names})

    def _seal(self, node: Node) -> Node:
        """`node` with every aggregate draft below it replaced by its `Aggregate` (shared nodes stay shared)."""
        sealed = self._sealed.get(id(node))
        if sealed is None:
            if isinstance(node, _AggregateDraft):
                sealed = node.seal(self.q.group_by)
            else:
                sealed = node.with_inputs(self._seal)
            self._sealed[id(node)] = sealed
        return sealed

    def _definition_filters(self, texts: t.Sequence[str]) -> t.Tuple[_Filter, ...]:
        return tuple(_Filter(_parse(text)) for text in texts)

    def driving_key(self, measures: t.Sequence[ir.Measure]) -> t.Optional[GroupBy]:
        """The finest group-by that is the measures' own time (metric_time or their agg time dimension)."""
        best: t.Optional[GroupBy] = None
        for g in self.q.group_by:
            if not g.grain or not self.res.is_own_time(g, measures):
                continue
            if best is None or ir.GRAIN_RANK[g.grain] < ir.GRAIN_RANK[t.cast(str, best.grain)]:
                best = g
        return best

    def _time_keys(self, driving: GroupBy, measures: t.Sequence[ir.Measure]) -> t.Tuple[OutputKey, ...]:
        """Keys of a time node: the driving key is the period, the measures' own time keys derive from it, the
        others come from the input rows."""
        out = []
        for g in self.q.group_by:
            if g is driving:
                out.append(OutputKey(g.name, from_period=True))
            elif self.res.is_own_time(g, measures):
                out.append(OutputKey(g.name, True, None if g.date_part else (g.grain or "day"), g.date_part))
            else:
                out.append(OutputKey(g.name))
        return tuple(out)

    def _check_spine_grain(self, driving: GroupBy, what: str) -> str:
        if driving.grain == "hour" or driving.grain is None:
            raise QueryError(f"{what} needs a time spine, which is daily: query it at day grain or coarser")
        return driving.grain

    def _binder(self, measure: ir.Measure) -> _Binder:
        return _Binder(self.res, self.res.models[measure.model], self.res.agg_time_dimension(measure))

    def _rows(
        self, measure: ir.Measure, filters: t.Tuple[_Filter, ...], under_time_op: bool, end_only: bool = False
    ) -> t.Tuple[_Binder, t.Tuple[_Filter, ...], t.Optional[TimeRange]]:
        """Which rows of the measure's model are read: (binder, query filters, time range)."""
        binder = self._binder(measure)
        if under_time_op:  # metric_time filters apply to the combined output (rows outside count for offsets)
            filters = tuple(f for f in filters if not (f.bindings is not None and f.on_metric_time))
        time_range = None if (under_time_op and not end_only) else self.q.time_range
        if time_range is not None and binder.time_dim is None:
            raise QueryError(
                f"measure '{measure.name}' has no aggregation time dimension, so a start/end time cannot apply to it"
            )
        if end_only and time_range is not None:
            time_range = TimeRange(None, time_range.end)
        return binder, filters, time_range

    def _output_filter(self, f: _Filter) -> OutputFilter:
        columns = {}
        for n, g in (f.bindings or {}).items():
            if g.kind == "metric_time":
                driving = self._driving_output(g)
                columns[n] = OutputColumn(driving.name, None if g.date_part else (g.grain or "day"), g.date_part)
                continue
            same = [
                k
                for k in self.q.group_by
                if k.canonical == g.canonical and k.grain == g.grain and k.date_part == g.date_part
            ]
            if not same:
                raise QueryError(
                    f"filter '{f.parsed.text}' mixes metric_time with '{n}', which is not in the group-by; "
                    "with offset or cumulative metrics add it to the group-by or split the filter"
                )
            columns[n] = OutputColumn(same[0].name)
        return OutputFilter(f.parsed.text, f.parsed.expression, columns)

    def _driving_output(self, g: GroupBy) -> GroupBy:
        """The output key a metric_time filter reads: the coarsest that is not coarser than the filter's grain."""
        candidates = [k for k in self.q.group_by if k.grain and k.kind in ("metric_time", "time")]

        def rank(k: GroupBy) -> int:
            return ir.GRAIN_RANK[t.cast(str, k.grain)]

        fine = [k for k in candidates if rank(k) <= ir.GRAIN_RANK[g.grain or "day"]] if not g.date_part else candidates
        pick = sorted(fine or candidates, key=lambda k: (k.kind != "metric_time", rank(k)))
        if not pick:
            raise QueryError("a metric_time filter with offset or cumulative metrics needs metric_time in the group-by")
        return pick[0]

    # ---------------------------------------------------------------- metrics
    def measure_value(
        self,
        measure: ir.Measure,
        filters: t.Tuple[_Filter, ...],
        under_time_op: bool,
        fill: t.Optional[float] = None,
        spine: bool = False,
    ) -> Expr:
        # the query's filters are shared by every measure of a scan; a metric's own filters only condition its column
        binder, source_filters, time_range = self._rows(
            measure, tuple(f for f in filters if f.bindings is not None), under_time_op
        )
        conditions = tuple(f for f in filters if f.bindings is None)
        key = (
            measure.model,
            binder.time_dim.name if binder.time_dim else None,
            _key_of(source_filters),
            time_range,
            False,
        )
        agg = self.aggregates.get(key)
        if agg is None:
            agg = self.aggregates[key] = _AggregateDraft(binder, source_filters, time_range)
        column = agg.add(measure, conditions)
        if spine:
            driving = self.driving_key([measure])
            if driving is not None:
                grain = self._check_spine_grain(driving, f"join_to_timespine of '{measure.name}'")
                node = SpineJoin(
                    agg,
                    column,
                    driving.name,
                    grain,
                    self._time_keys(driving, [measure]),
                    self.q.time_range,
                    self.res.time_spine,
                )
                self.time_sensitive = self.time_sensitive or driving
                return self._ref(node, column, fill)
        return self._ref(agg, column, fill)

    def _measure_of(self, metric: ir.Metric) -> ir.Measure:
        assert metric.measure is not None  # simple and cumulative metrics have one (checked at load)
        return self.res.measures[metric.measure.name]

    def metric_expr(self, metric: ir.Metric, filters: t.Tuple[_Filter, ...], under_time_op: bool) -> Expr:
        filters = filters + self._definition_filters(metric.filters)
        if metric.type == "simple":
            measure = self._measure_of(metric)
            assert metric.measure is not None
            fs = filters + self._definition_filters(metric.measure.filters)
            return self.measure_value(measure, fs, under_time_op, metric.fill_nulls_with, metric.join_to_timespine)
        if metric.type == "cumulative":
            return self.cumulative(metric, filters, under_time_op)
        if metric.type == "ratio":
            assert metric.numerator is not None and metric.denominator is not None
            num = self.input_expr(metric.numerator, filters, under_time_op)
            den = self.input_expr(metric.denominator, filters, under_time_op)
            return exp.Div(
                this=cast(num, "double"),
                expression=cast(exp.Nullif(this=den, expression=exp.Literal.number(0)), "double"),
            )
        # derived: the expression with each input's value in place of its name
        values = {inp.alias or inp.name: self.input_expr(inp, filters, under_time_op) for inp in metric.inputs}
        tree = parse_expr(metric.expr or "")

        def swap(node: Expr) -> Expr:
            if isinstance(node, exp.Column) and node.name in values:
                return exp.paren(values[node.name].copy(), copy=False)
            return node

        return tree.transform(swap, copy=False)

    def cumulative(self, metric: ir.Metric, filters: t.Tuple[_Filter, ...], under_time_op: bool) -> Expr:
        measure = self._measure_of(metric)
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
        grain = self._check_spine_grain(driving, f"cumulative metric '{metric.name}'")
        binder, source_filters, time_range = self._rows(measure, filters, True, end_only=True)
        binder.time()  # the day each row counts for
        others = [g for g in self.q.group_by if not self.res.is_own_time(g, [measure])]
        keys = tuple(Key(g.name, binder.key(g)) for g in others)
        node = Cumulative(
            binder.source(source_filters, time_range, end_only=True),
            binder.measure(measure),
            keys,
            self._time_keys(driving, [measure]),
            grain,
            metric.window,
            metric.grain_to_date,
            metric.period_agg,
            self.q.time_range,
            self.res.time_spine,
        )
        self.time_sensitive = self.time_sensitive or driving
        return self._ref(node, node.column, metric.fill_nulls_with)

    def input_expr(self, inp: ir.MetricInput, filters: t.Tuple[_Filter, ...], under_time_op: bool) -> Expr:
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
        grain = self._check_spine_grain(driving, f"the offset of '{inp.alias or inp.name}'")
        offset = inp.offset
        if offset.unit and ir.GRAIN_RANK[offset.unit] < ir.GRAIN_RANK[grain]:
            raise QueryError(
                f"an offset of {offset} cannot be applied at {grain} grain; query a grain of {offset.unit} or finer"
            )
        if offset.to_grain and ir.GRAIN_RANK[offset.to_grain] < ir.GRAIN_RANK[grain]:
            raise QueryError(f"offset_to_grain {offset.to_grain} is finer than the queried {grain} grain")
        if inp.is_measure:
            inner = self.measure_value(self.res.measures[inp.name], fs, True)
        else:
            inner = self.metric_expr(self.res.metrics[self.res.metric_names[inp.name]], fs, True)
        node, column = self.materialize(inner)
        self.time_sensitive = self.time_sensitive or driving
        shift = Shift(
            node,
            column,
            offset,
            driving.name,
            grain,
            self._time_keys(driving, measures),
            self.q.time_range,
            self.res.time_spine,
        )
        return self._ref(shift, column)

    def materialize(self, expression: Expr) -> t.Tuple[Node, str]:
        """The node and column holding `expression`: a plain value where it is one, else a `Compute` of it."""
        if isinstance(expression, exp.Column) and expression.name in self.refs:
            ref = self.refs[expression.name]
            if ref.fill is None:
                return ref.node, ref.column
        return self._compute((("value", expression),)), "value"


def build_plan(res: ResolvedManifest, query: ResolvedQuery) -> QueryPlan:
    return Planner(res, query).plan()
