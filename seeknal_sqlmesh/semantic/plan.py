"""The query plan: small frozen nodes that carry everything resolution found, so rendering only maps nodes to SQL.

`planner.py` builds a plan from a resolved query; `render.py` turns it into SQL. A plan names nothing that would
have to be looked up again: each node holds parsed SQL expressions over one model's columns, the relation it reads,
the join path to every other model it needs (with the join keys), and parsed filters with what each of their names
stands for. A plan can be written by hand (see tests/test_semantic_plan.py).

What a scan reads:
- `ModelExpr`: an expression over the columns of one semantic model, reached from the scanned model along a join path
  (many-to-one joins only), optionally truncated to a grain or reduced to a date part;
- `Condition`: a parsed filter and the `ModelExpr` each of its names stands for;
- `Measure`: a measure's aggregation and expression, with its own (Seeknal) filters;
- `Source`: one model's relation, its aggregation time expression, filters and time constraint.

Nodes (each yields one row per value of the query's group-by keys, columns named after the keys):
- `Aggregate`: measures of one model aggregated at the query grain; measures of different models are never
  aggregated over the same join, so a join never multiplies a sum (no fan-out); they meet in `Compute`.
- `Cumulative`: a measure over a trailing window, grain-to-date or all time, computed per day against a time spine
  and reduced to the query grain with the metric's period aggregation (first / last / average).
- `Shift`: an input's value `n` periods earlier (`offset_window`) or at the start of a coarser period
  (`offset_to_grain`), looked up through the time spine.
- `SpineJoin`: `join_to_timespine`: every period of the spine, with the input's value where it has rows.
- `Compute`: values of several nodes combined on the keys, and the metrics' ratio / derived expressions; the root of
  every metric query. Its expressions are sqlglot trees whose placeholder columns are `ValueRef` ids.
- `DistinctKeys`: the root of a query without metrics (distinct values of the keys).

The renderer handles every node type through `PlanVisitor` (one method per type).
"""

from __future__ import annotations

import abc
import typing as t
from dataclasses import dataclass, field, replace

from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.query import TimeRange
from seeknal_sqlmesh.semantic.resolve import JoinPath
from seeknal_sqlmesh.sqlkit import Expr

T = t.TypeVar("T")


# ---------------------------------------------------------------- what scans read


@dataclass(frozen=True, eq=False)
class ModelExpr:
    """SQL over the columns of one semantic model (unqualified), reached from the scanned model along `path`.

    With `grain` it is truncated to that grain, with `date_part` reduced to that part; with neither it is used as is.
    """

    sql: Expr
    path: JoinPath = field(default_factory=JoinPath)  # empty: the scanned model itself
    grain: t.Optional[str] = None
    date_part: t.Optional[str] = None


@dataclass(frozen=True, eq=False)
class Condition:
    """A parsed filter (`expression`, whose bare columns are names) and the value each name stands for."""

    text: str  # as written: to tell filters apart, and for messages
    expression: Expr
    values: t.Mapping[str, ModelExpr]


@dataclass(frozen=True, eq=False)
class Measure:
    name: str
    agg: str  # one of ir.AGGS
    expr: Expr  # over the model's columns
    percentile: t.Optional[float] = None
    filters: t.Tuple[Condition, ...] = ()  # Seeknal measure filters: rows that do not match count as NULL


@dataclass(frozen=True, eq=False)
class Source:
    """The rows of one semantic model that a node reads: its relation, filtered."""

    model: str  # the model's name: the scan's table alias, and what `explain` reports as read
    relation: ir.Relation
    time: t.Optional[Expr] = None  # the aggregation time dimension (metric_time), over the model's columns
    filters: t.Tuple[Condition, ...] = ()
    time_range: t.Optional[TimeRange] = None  # applied to `time`
    end_only: bool = False  # cumulative inputs: only the end of the range bounds the rows


@dataclass(frozen=True, eq=False)
class Key:
    """A group-by key of a scan: the output column `name` and its value."""

    name: str
    value: ModelExpr


@dataclass(frozen=True)
class OutputKey:
    """A group-by key of a node that works on time periods (`Cumulative`, `Shift`, `SpineJoin`).

    `from_period`: computed from the node's period (the driving key itself when neither `grain` nor `date_part` is
    set, else the period truncated / reduced); otherwise carried over from the input rows.
    """

    name: str
    from_period: bool = False
    grain: t.Optional[str] = None
    date_part: t.Optional[str] = None


# ---------------------------------------------------------------- nodes


class Node(abc.ABC):
    """A plan node. `inputs` are the nodes it reads; `with_inputs` copies it with each input replaced."""

    def inputs(self) -> t.Tuple[Node, ...]:
        return ()

    def with_inputs(self, new: t.Callable[[Node], Node]) -> Node:
        return self

    @property
    @abc.abstractmethod
    def name_hint(self) -> str:
        """A readable base for the name of this node's CTE."""

    @abc.abstractmethod
    def accept(self, visitor: PlanVisitor[T]) -> T: ...


@dataclass(frozen=True, eq=False)
class MeasureColumn:
    """A measure aggregated over the rows that also satisfy `conditions` (a metric's own filters)."""

    name: str
    measure: Measure
    conditions: t.Tuple[Condition, ...] = ()


@dataclass(frozen=True, eq=False)
class Aggregate(Node):
    source: Source
    keys: t.Tuple[Key, ...]
    columns: t.Tuple[MeasureColumn, ...]

    @property
    def name_hint(self) -> str:
        names = list(dict.fromkeys(c.measure.name for c in self.columns))
        return "_".join(names[:2]) or self.source.model

    def accept(self, visitor: PlanVisitor[T]) -> T:
        return visitor.visit_aggregate(self)


@dataclass(frozen=True, eq=False)
class Cumulative(Node):
    source: Source  # its `time` is the day the rows count for
    measure: Measure
    keys: t.Tuple[Key, ...]  # the keys read from the rows (not the measure's own time)
    output: t.Tuple[OutputKey, ...]
    grain: str  # of the driving key
    window: t.Optional[ir.Offset] = None  # trailing window; with neither window nor grain_to_date: all time
    grain_to_date: t.Optional[str] = None
    period_agg: str = "first"  # first | last | average of the days of each period
    bounds: t.Optional[TimeRange] = None  # of the spine (the query's time constraint)
    spine: t.Optional[ir.TimeSpine] = None  # a configured time spine table; None: generated

    @property
    def column(self) -> str:
        return self.measure.name

    @property
    def name_hint(self) -> str:
        return f"{self.measure.name}_cumulative"

    def accept(self, visitor: PlanVisitor[T]) -> T:
        return visitor.visit_cumulative(self)


@dataclass(frozen=True, eq=False)
class Shift(Node):
    input: Node
    column: str  # the input's value column, and this node's
    offset: ir.Offset
    driving: str  # the input's column holding the period, at `grain`
    grain: str
    output: t.Tuple[OutputKey, ...]
    bounds: t.Optional[TimeRange] = None
    spine: t.Optional[ir.TimeSpine] = None

    def inputs(self) -> t.Tuple[Node, ...]:
        return (self.input,)

    def with_inputs(self, new: t.Callable[[Node], Node]) -> Node:
        return replace(self, input=new(self.input))

    @property
    def name_hint(self) -> str:
        return f"{self.column}_offset"

    def accept(self, visitor: PlanVisitor[T]) -> T:
        return visitor.visit_shift(self)


@dataclass(frozen=True, eq=False)
class SpineJoin(Node):
    input: Node
    column: str
    driving: str
    grain: str
    output: t.Tuple[OutputKey, ...]
    bounds: t.Optional[TimeRange] = None
    spine: t.Optional[ir.TimeSpine] = None

    def inputs(self) -> t.Tuple[Node, ...]:
        return (self.input,)

    def with_inputs(self, new: t.Callable[[Node], Node]) -> Node:
        return replace(self, input=new(self.input))

    @property
    def name_hint(self) -> str:
        return f"{self.column}_spine"

    def accept(self, visitor: PlanVisitor[T]) -> T:
        return visitor.visit_spine_join(self)


@dataclass(frozen=True, eq=False)
class ValueRef:
    """A value column of a node, as used in `Compute` expressions (a placeholder column named `id`)."""

    id: str
    node: Node
    column: str
    fill: t.Optional[float] = None  # fill_nulls_with


@dataclass(frozen=True, eq=False)
class Compute(Node):
    outputs: t.Tuple[t.Tuple[str, Expr], ...]  # (output column, expression over ValueRef ids)
    refs: t.Mapping[str, ValueRef] = field(default_factory=dict)

    def inputs(self) -> t.Tuple[Node, ...]:
        """The nodes the expressions use, in the order they appear."""
        out: t.List[Node] = []
        for _, expression in self.outputs:
            for column in expression.find_all(exp.Column):
                ref = self.refs.get(column.name)
                if ref is not None and not any(ref.node is n for n in out):
                    out.append(ref.node)
        return tuple(out)

    def with_inputs(self, new: t.Callable[[Node], Node]) -> Node:
        return replace(self, refs={k: replace(r, node=new(r.node)) for k, r in self.refs.items()})

    @property
    def name_hint(self) -> str:
        return f"{self.outputs[0][0]}_input" if self.outputs else "input"

    def accept(self, visitor: PlanVisitor[T]) -> T:
        return visitor.visit_compute(self)


@dataclass(frozen=True, eq=False)
class DistinctKeys(Node):
    source: Source
    keys: t.Tuple[Key, ...]

    @property
    def name_hint(self) -> str:
        return f"{self.source.model}_keys"

    def accept(self, visitor: PlanVisitor[T]) -> T:
        return visitor.visit_distinct_keys(self)


class PlanVisitor(abc.ABC, t.Generic[T]):
    """One method per node type (the renderer is one)."""

    @abc.abstractmethod
    def visit_aggregate(self, node: Aggregate) -> T: ...

    @abc.abstractmethod
    def visit_cumulative(self, node: Cumulative) -> T: ...

    @abc.abstractmethod
    def visit_shift(self, node: Shift) -> T: ...

    @abc.abstractmethod
    def visit_spine_join(self, node: SpineJoin) -> T: ...

    @abc.abstractmethod
    def visit_compute(self, node: Compute) -> T: ...

    @abc.abstractmethod
    def visit_distinct_keys(self, node: DistinctKeys) -> T: ...


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class OutputColumn:
    """An output column of the query, optionally truncated / reduced (filters applied after combining nodes)."""

    name: str
    grain: t.Optional[str] = None
    date_part: t.Optional[str] = None


@dataclass(frozen=True, eq=False)
class OutputFilter:
    """A query filter applied to the combined rows (when offsets or cumulative metrics need rows outside it)."""

    text: str
    expression: Expr
    columns: t.Mapping[str, OutputColumn]


@dataclass(frozen=True, eq=False)
class QueryPlan:
    keys: t.Tuple[str, ...]  # the group-by output columns, in order
    root: Node  # a Compute (metrics) or DistinctKeys (no metrics)
    where: t.Tuple[OutputFilter, ...] = ()
    time_range: t.Optional[t.Tuple[str, TimeRange]] = None  # (output column, range) applied to the combined rows
    order_by: t.Tuple[t.Tuple[str, bool], ...] = ()  # (output column, descending)
    limit: t.Optional[int] = None

    def nodes(self) -> t.List[Node]:
        """Every node once, inputs before the nodes that read them."""
        out: t.List[Node] = []

        def visit(node: Node) -> None:
            if any(node is seen for seen in out):
                return
            for child in node.inputs():
                visit(child)
            out.append(node)

        visit(self.root)
        return out
