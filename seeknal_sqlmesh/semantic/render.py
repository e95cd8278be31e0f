"""Rendering: a `QueryPlan` becomes one sqlglot SELECT (CTEs for intermediate nodes), printed in any dialect.

The renderer is a `PlanVisitor`: one method per node type maps that node to a SELECT. Everything it needs is in
the plan (expressions, join paths, relations, parsed filters): it never looks a name up and never parses SQL. The
SQL that differs between engines (time spine generation, date parts, intervals) comes from `dialects.py`; the
relation a model reads (a table, or a SQLMesh environment's view) from the `relation` function it is given.

Time values at day grain or coarser are DATEs in every dialect. Several nodes are combined on the group-by keys
with `UNION ALL` + `GROUP BY` (NULL-safe, unlike a FULL OUTER JOIN on nullable keys); a node read by one parent only
is inlined, so a query answered by one aggregate is a single SELECT ... GROUP BY.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.dialects import DialectSQL, dialect_sql
from seeknal_sqlmesh.semantic.filters import bind
from seeknal_sqlmesh.semantic.plan import (
    Aggregate,
    Compute,
    Condition,
    Cumulative,
    DistinctKeys,
    Measure,
    ModelExpr,
    Node,
    OutputColumn,
    OutputKey,
    PlanVisitor,
    QueryPlan,
    Shift,
    Source,
    SpineJoin,
    ValueRef,
)
from seeknal_sqlmesh.semantic.query import TimeRange
from seeknal_sqlmesh.semantic.resolve import LEFT, RIGHT, JoinPath
from seeknal_sqlmesh.sqlkit import (
    Expr,
    alias,
    and_all,
    cast,
    col,
    cte,
    cte_table,
    ident,
    qualify,
    string,
    subquery,
    table,
    to_sql,
)

RelationFn = t.Callable[[ir.Relation], exp.Table]


def default_relation(relation: ir.Relation) -> exp.Table:
    """A relation read as a table name (`ref('transform.orders')` is `transform.orders`)."""
    return table(relation.name)


def time_literal(value: dt.datetime) -> Expr:
    if value.time() == dt.time(0):
        return cast(string(value.date().isoformat()), "date")
    return cast(string(value.isoformat(sep=" ")), "timestamp")


def aggregate(agg: str, e: Expr, percentile: t.Optional[float] = None) -> Expr:
    """A measure's aggregation (ir.AGGS) over `e`."""
    if agg == "sum":
        return exp.Sum(this=e)
    if agg == "count":
        return exp.Count(this=e)
    if agg == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[e]))
    if agg == "average":
        return exp.Avg(this=e)
    if agg == "min":
        return exp.Min(this=e)
    if agg == "max":
        return exp.Max(this=e)
    if agg == "sum_boolean":
        return exp.Sum(this=exp.Case(ifs=[exp.If(this=e, true=exp.Literal.number(1))], default=exp.Literal.number(0)))
    if agg == "median":
        return exp.Median(this=e)
    if agg == "percentile" and percentile is not None:
        return exp.WithinGroup(
            this=exp.PercentileCont(this=exp.Literal.number(percentile)),
            expression=exp.Order(expressions=[exp.Ordered(this=e)]),
        )
    raise ValueError(f"unsupported aggregation '{agg}'")  # specs only let the aggregations above through


def unique_name(base: str, taken: t.Collection[str]) -> str:
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    return name


# ---------------------------------------------------------------- scans


class Scan:
    """FROM a semantic model's relation, with the many-to-one joins its expressions need (added as they are used)."""

    def __init__(self, renderer: Renderer, source: Source):
        self.r = renderer
        self.source = source
        self.base = source.model
        self.aliases: t.Dict[t.Tuple[t.Tuple[str, str], ...], str] = {(): self.base}
        self.alias_models: t.Dict[str, str] = {self.base: source.model}
        self.joins: t.List[exp.Join] = []

    def alias_for(self, path: JoinPath) -> str:
        """The table alias of the model at the end of `path`, joining what is not joined yet."""
        current = self.base
        for i, step in enumerate(path.steps):
            key = tuple((s.link, s.right) for s in path.steps[: i + 1])
            if key not in self.aliases:
                new = unique_name(step.right, set(self.aliases.values()))
                condition = step.condition.copy()
                for c in condition.find_all(exp.Column):
                    if c.table == LEFT:
                        c.set("table", ident(current))
                    elif c.table == RIGHT:
                        c.set("table", ident(new))
                self.joins.append(exp.Join(this=self.r.table(step.relation, new), on=condition, side="LEFT"))
                self.aliases[key] = new
                self.alias_models[new] = step.right
            current = self.aliases[key]
        return current

    def value(self, v: ModelExpr) -> Expr:
        e = qualify(v.sql, self.alias_for(v.path))
        return self.r.engine.time_key(e, v.grain, v.date_part) if (v.grain or v.date_part) else e

    def time(self) -> Expr:
        if self.source.time is None:
            raise ValueError(f"the plan reads metric_time of '{self.source.model}', which has no time expression")
        return qualify(self.source.time, self.base)

    def condition(self, c: Condition) -> Expr:
        return bind(c.expression, {name: self.value(v) for name, v in c.values.items()})

    def conditions(self) -> t.List[Expr]:
        """The source's filters and time constraint."""
        out = [self.condition(f) for f in self.source.filters]
        tr = self.source.time_range
        if tr is not None:
            if tr.start is not None and not self.source.end_only:
                out.append(exp.GTE(this=self.time(), expression=time_literal(tr.start)))
            if tr.end is not None:
                out.append(exp.LT(this=self.time(), expression=time_literal(tr.end)))
        return out

    def measure_input(self, m: Measure) -> Expr:
        """What the measure aggregates: its expression, NULL where its own filters do not match."""
        e = qualify(m.expr, self.base)
        if m.filters:
            e = exp.Case(ifs=[exp.If(this=and_all([self.condition(f) for f in m.filters]), true=e)])
        return e

    def select(self, items: t.Sequence[Expr], conditions: t.Sequence[Expr]) -> exp.Select:
        """SELECT items FROM the relation and its joins WHERE conditions; records the columns read (explain)."""
        sel = exp.select(*items).from_(self.r.table(self.source.relation, self.base), copy=False)
        for join in self.joins:
            sel = sel.join(join, copy=False)
        where = and_all(conditions)
        if where is not None:
            sel = sel.where(where, copy=False)
        for c in sel.find_all(exp.Column):
            model = self.alias_models.get(c.table)
            if model is not None and c.name:
                self.r.reads.setdefault(model, set()).add(c.name)
        return sel


# ---------------------------------------------------------------- renderer


class Renderer(PlanVisitor[exp.Select]):
    def __init__(self, plan: QueryPlan, relation: RelationFn = default_relation, dialect: t.Optional[str] = "duckdb"):
        self.plan = plan
        self.relation = relation
        self.engine: DialectSQL = dialect_sql(dialect)  # the SQL that differs between engines
        self.keys = plan.keys
        self.ctes: t.List[exp.CTE] = []
        self.reads: t.Dict[str, t.Set[str]] = {}  # semantic model -> columns read
        self._cte_of: t.Dict[int, str] = {}
        self._cte_names: t.Set[str] = set()
        self._parents: t.Dict[int, int] = {}
        for node in plan.nodes():
            for child in node.inputs():
                self._parents[id(child)] = self._parents.get(id(child), 0) + 1

    # ---------------------------------------------------------------- helpers
    def table(self, relation: ir.Relation, as_: str) -> exp.Table:
        node = self.relation(relation).copy()
        node.set("alias", exp.TableAlias(this=ident(as_)))
        return node

    def cte_name(self, base: str) -> str:
        name = unique_name(f"sl_{base}", self._cte_names)
        self._cte_names.add(name)
        return name

    def add_cte(self, query: exp.Select, base: str) -> str:
        name = self.cte_name(base)
        self.ctes.append(cte(query, name))
        return name

    def node_cte(self, node: Node) -> str:
        """The CTE computing `node` (rendered once, however many nodes read it)."""
        name = self._cte_of.get(id(node))
        if name is None:
            query = node.accept(self)  # inputs' CTEs first
            name = self._cte_of[id(node)] = self.add_cte(query, node.name_hint)
        return name

    def key_cols(self, table_alias: t.Optional[str] = None) -> t.List[Expr]:
        return [col(name, table_alias) for name in self.keys]

    def keyed(self, values: t.Sequence[Expr]) -> t.List[Expr]:
        """`value AS <key>` for each group-by key."""
        return [alias(v, name) for v, name in zip(values, self.keys, strict=True)]

    @staticmethod
    def substitute(e: Expr, refs: t.Mapping[str, ValueRef], value_of: t.Callable[[ValueRef], Expr]) -> Expr:
        """A copy of a Compute expression with each ValueRef replaced by `value_of(ref)` (filled when asked)."""

        def swap(n: Expr) -> Expr:
            if isinstance(n, exp.Column) and n.name in refs:
                ref = refs[n.name]
                v = value_of(ref)
                if ref.fill is not None:
                    v = exp.Coalesce(this=v, expressions=[exp.Literal.number(ref.fill)])
                return v
            return n

        return e.copy().transform(swap, copy=False)

    # ---------------------------------------------------------------- entry
    def render(self) -> exp.Select:
        plan = self.plan
        sel = plan.root.accept(self)
        post = self.post_conditions()
        if post:
            sel = exp.select(exp.Star()).from_(subquery(sel, "q"), copy=False).where(and_all(post), copy=False)
        if plan.order_by:
            sel = sel.order_by(*[exp.Ordered(this=col(name), desc=desc) for name, desc in plan.order_by], copy=False)
        if plan.limit is not None:
            sel.set("limit", exp.Limit(expression=exp.Literal.number(plan.limit)))
        if self.ctes:
            sel.set("with_", exp.With(expressions=self.ctes))
        return sel

    def output_value(self, c: OutputColumn) -> Expr:
        e = col(c.name)
        return self.engine.time_key(e, c.grain, c.date_part) if (c.grain or c.date_part) else e

    def post_conditions(self) -> t.List[Expr]:
        """The plan's filters on the combined rows."""
        out: t.List[Expr] = []
        if self.plan.time_range is not None:
            name, tr = self.plan.time_range
            if tr.start is not None:
                out.append(exp.GTE(this=col(name), expression=time_literal(tr.start)))
            if tr.end is not None:
                out.append(exp.LT(this=col(name), expression=time_literal(tr.end)))
        for f in self.plan.where:
            out.append(bind(f.expression, {n: self.output_value(c) for n, c in f.columns.items()}))
        return out

    # ---------------------------------------------------------------- aggregates
    def visit_aggregate(self, node: Aggregate) -> exp.Select:
        return self.aggregate_select(node)

    def aggregate_select(
        self,
        node: Aggregate,
        outputs: t.Optional[t.Sequence[t.Tuple[str, Expr]]] = None,
        refs: t.Optional[t.Mapping[str, ValueRef]] = None,
    ) -> exp.Select:
        """The aggregate's value columns, or (inlined into a Compute) the Compute's outputs over them."""
        scan = Scan(self, node.source)
        keys = [scan.value(k.value) for k in node.keys]
        values: t.Dict[str, Expr] = {}
        conditions: t.Dict[str, t.Optional[Expr]] = {}
        for c in node.columns:
            condition = and_all([scan.condition(f) for f in c.conditions])
            values[c.name] = self.conditional_aggregate(scan, c.measure, condition)
            conditions[c.name] = condition
        items = [alias(k, key.name) for k, key in zip(keys, node.keys, strict=True)]
        if outputs is None:
            items += [alias(v, name) for name, v in values.items()]
        else:
            items += [
                alias(self.substitute(e, refs or {}, lambda ref: values[ref.column].copy()), n) for n, e in outputs
            ]
        where = scan.conditions()
        present = [c for c in conditions.values() if c is not None]
        if present and len(present) == len(conditions):  # every column is conditional: skip rows none counts
            distinct = list({to_sql(c): c for c in present}.values())
            where.append(
                exp.or_(*[exp.paren(c.copy(), copy=False) for c in distinct], copy=False)
                if len(distinct) > 1
                else distinct[0].copy()
            )
        sel = scan.select(items, where)
        if keys:
            sel = sel.group_by(*[k.copy() for k in keys], copy=False)
        return sel

    @staticmethod
    def conditional_aggregate(scan: Scan, m: Measure, condition: t.Optional[Expr]) -> Expr:
        """AGG(CASE WHEN condition THEN x END); counts are NULL (not 0) for groups without a matching row, like a
        separate filtered aggregate combined with the others."""
        value = scan.measure_input(m)
        if condition is None:
            return aggregate(m.agg, value, m.percentile)
        agg = aggregate(m.agg, exp.Case(ifs=[exp.If(this=condition.copy(), true=value)]), m.percentile)
        if m.agg not in ("count", "count_distinct", "sum_boolean"):
            return agg
        matched = exp.GT(
            this=exp.Count(this=exp.Case(ifs=[exp.If(this=condition.copy(), true=exp.Literal.number(1))])),
            expression=exp.Literal.number(0),
        )
        return exp.Case(ifs=[exp.If(this=matched, true=agg)])

    def visit_distinct_keys(self, node: DistinctKeys) -> exp.Select:
        scan = Scan(self, node.source)
        keys = [scan.value(k.value) for k in node.keys]
        sel = scan.select([alias(k, key.name) for k, key in zip(keys, node.keys, strict=True)], scan.conditions())
        return sel.group_by(*[k.copy() for k in keys], copy=False)

    # ---------------------------------------------------------------- combining values
    def visit_compute(self, node: Compute) -> exp.Select:
        nodes = node.inputs()
        refs = node.refs
        # an aggregate read by this node only: one SELECT computing the outputs from its aggregates
        if len(nodes) == 1 and isinstance(nodes[0], Aggregate) and self._parents.get(id(nodes[0]), 0) <= 1:
            return self.aggregate_select(nodes[0], node.outputs, refs)
        if not nodes:
            return exp.select(*[alias(e.copy(), n) for n, e in node.outputs])
        if len(nodes) == 1:
            source = self.node_cte(nodes[0])
            items = self.keyed(self.key_cols("c"))
            items += [alias(self.substitute(e, refs, lambda ref: col(ref.column, "c")), n) for n, e in node.outputs]
            return exp.select(*items).from_(cte_table(source, "c"), copy=False)
        # several nodes: UNION ALL of their values on the keys (one slot column per value), then one row per key
        slots: t.Dict[t.Tuple[int, str], str] = {}
        for ref in refs.values():
            if any(ref.node is n for n in nodes):
                slots.setdefault((id(ref.node), ref.column), f"v{len(slots)}")
        branches = []
        for n in nodes:
            source = self.node_cte(n)
            items = self.keyed(self.key_cols())
            for (node_id, column), slot in slots.items():
                items.append(alias(col(column) if node_id == id(n) else exp.Null(), slot))
            branches.append(exp.select(*items).from_(cte_table(source), copy=False))
        union: exp.Query = branches[0]
        for b in branches[1:]:
            union = exp.union(union, b, distinct=False, copy=False)
        items = self.keyed(self.key_cols("u"))
        items += [
            alias(self.substitute(e, refs, lambda ref: exp.Max(this=col(slots[(id(ref.node), ref.column)], "u"))), n)
            for n, e in node.outputs
        ]
        sel = exp.select(*items).from_(subquery(union, "u"), copy=False)
        if self.keys:
            sel = sel.group_by(*self.key_cols("u"), copy=False)
        return sel

    # ---------------------------------------------------------------- time spine
    def days(self, spine: t.Optional[ir.TimeSpine], lo: Expr, hi: Expr) -> exp.Select:
        """One row per day between lo and hi (DATEs, inclusive), column `ds`: from the configured time spine table,
        else generated in the dialect's SQL."""
        if spine is None:
            return self.engine.days(lo, hi)
        ds = cast(exp.column(spine.column), "date")  # the user's column: quoted only when its name needs it
        return (
            exp.select(alias(ds, "ds"))
            .from_(self.relation(spine.relation), copy=False)
            .where(exp.Between(this=ds.copy(), low=lo, high=hi), copy=False)
        )

    def bounds(self, tr: t.Optional[TimeRange], cte_name: str, column: str) -> t.Tuple[Expr, Expr]:
        """The first and last day of a spine: the time constraint, else the range of `column` in `cte_name`."""

        def data(fn: t.Type[exp.AggFunc]) -> Expr:
            return exp.Subquery(this=exp.select(fn(this=col(column))).from_(cte_table(cte_name), copy=False))

        lo = time_literal(tr.start) if tr is not None and tr.start is not None else data(exp.Min)
        if tr is not None and tr.end is not None:
            hi = time_literal(tr.end - dt.timedelta(days=1))
        else:
            hi = data(exp.Max)
        return cast(lo, "date"), cast(hi, "date")

    def period_spine(self, spine: t.Optional[ir.TimeSpine], grain: str, lo: Expr, hi: Expr) -> str:
        """A CTE of the distinct periods (column `period`) of the days between lo and hi."""
        sel = (
            exp.select(alias(self.engine.truncate(col("ds", "s"), grain), "period"))
            .from_(subquery(self.days(spine, lo, hi), "s"), copy=False)
            .distinct(copy=False)
        )
        return self.add_cte(sel, f"spine_{grain}")

    def keys_from_period(self, period: Expr, output: t.Sequence[OutputKey], rows: str) -> t.List[Expr]:
        """Output keys of a time node: computed from `period`, or read from the `rows` table."""
        out: t.List[Expr] = []
        for k in output:
            value: Expr
            if not k.from_period:
                value = col(k.name, rows)
            elif k.grain or k.date_part:
                value = self.engine.time_key(period.copy(), k.grain, k.date_part)
            else:
                value = period.copy()
            out.append(alias(value, k.name))
        return out

    def spine_lookup(
        self,
        node: t.Union[Shift, SpineJoin],
        source_period: t.Callable[[Expr], Expr],
        side: t.Optional[str],
    ) -> exp.Select:
        """Every period of the spine at the driving grain, with the input's value of `source_period(period)`."""
        source = self.node_cte(node.input)
        lo, hi = self.bounds(node.bounds, source, node.driving)
        spine = self.period_spine(node.spine, node.grain, lo, hi)
        period = col("period", "p")
        items = [*self.keys_from_period(period, node.output, "i"), alias(col(node.column, "i"), node.column)]
        on = exp.EQ(this=col(node.driving, "i"), expression=source_period(period.copy()))
        return (
            exp.select(*items)
            .from_(cte_table(spine, "p"), copy=False)
            .join(exp.Join(this=cte_table(source, "i"), on=on, side=side), copy=False)
        )

    def visit_shift(self, node: Shift) -> exp.Select:
        offset, grain = node.offset, node.grain
        if offset.to_grain:
            to_grain = offset.to_grain
            return self.spine_lookup(
                node, lambda p: self.engine.truncate(self.engine.truncate(p, to_grain), grain), None
            )
        count, unit = offset.count, offset.unit or "day"
        return self.spine_lookup(
            node,
            lambda p: self.engine.truncate(exp.Sub(this=p, expression=self.engine.interval(count, unit)), grain),
            None,
        )

    def visit_spine_join(self, node: SpineJoin) -> exp.Select:
        return self.spine_lookup(node, lambda p: p, "LEFT")

    def visit_cumulative(self, node: Cumulative) -> exp.Select:
        m = node.measure
        scan = Scan(self, node.source)
        others = [k.name for k in node.keys]
        partial = ir.ADDITIVE_AGGS.get(m.agg)  # sums, counts, min, max: aggregate per day first
        items = [alias(self.engine.truncate(scan.time(), "day"), "__time")]
        items += [alias(scan.value(k.value), k.name) for k in node.keys]
        value = scan.measure_input(m)
        items.append(alias(aggregate(m.agg, value) if partial else value, "__value"))
        rows = scan.select(items, scan.conditions())
        if partial:
            rows = rows.group_by(*[i.this.copy() for i in items[:-1]], copy=False)
        rows_cte = self.add_cte(rows, f"{m.name}_rows")
        lo, hi = self.bounds(node.bounds, rows_cte, "__time")
        spine_cte = self.add_cte(self.days(node.spine, lo, hi), "spine_day")
        # each spine day: the rows of its window
        ds, row_time = col("ds", "s"), col("__time", "r")
        window: t.List[t.Optional[Expr]] = [exp.LTE(this=row_time.copy(), expression=ds.copy())]
        if node.window is not None:
            span = self.engine.interval(node.window.count, node.window.unit or "day")
            window.append(exp.GT(this=row_time.copy(), expression=exp.Sub(this=ds.copy(), expression=span)))
        elif node.grain_to_date:
            window.append(exp.GTE(this=row_time.copy(), expression=self.engine.truncate(ds.copy(), node.grain_to_date)))
        final: t.Optional[t.Type[exp.AggFunc]] = (
            {"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[partial] if partial else None
        )
        day_value = final(this=col("__value", "r")) if final else aggregate(m.agg, col("__value", "r"), m.percentile)
        per_day = (
            exp.select(
                alias(ds.copy(), "__time"), *[alias(col(k, "r"), k) for k in others], alias(day_value, "__value")
            )
            .from_(cte_table(spine_cte, "s"), copy=False)
            .join(exp.Join(this=cte_table(rows_cte, "r"), on=and_all(window)), copy=False)
            .group_by(ds.copy(), *[col(k, "r") for k in others], copy=False)
        )
        result = [*self.keys_from_period(col("__time", "d"), node.output, "d"), alias(col("__value", "d"), node.column)]
        if node.grain == "day":
            return exp.select(*result).from_(subquery(per_day, "d"), copy=False)
        # reduce the days of each period with the metric's period aggregation
        period = self.engine.truncate(col("__time"), node.grain)
        other_cols = [col(k) for k in others]
        if node.period_agg == "average":
            per_period = (
                exp.select(alias(period, "__time"), *other_cols, alias(exp.Avg(this=col("__value")), "__value"))
                .from_(subquery(per_day, "d"), copy=False)
                .group_by(period.copy(), *[c.copy() for c in other_cols], copy=False)
            )
        else:  # first / last day of the period
            row_number = exp.Window(
                this=exp.RowNumber(),
                partition_by=[period.copy(), *[c.copy() for c in other_cols]],
                order=exp.Order(expressions=[exp.Ordered(this=col("__time"), desc=node.period_agg == "last")]),
            )
            ranked = exp.select(
                alias(period.copy(), "__period"),
                *[c.copy() for c in other_cols],
                col("__value"),
                alias(row_number, "__rn"),
            ).from_(subquery(per_day, "d"), copy=False)
            per_period = (
                exp.select(alias(col("__period"), "__time"), *[c.copy() for c in other_cols], col("__value"))
                .from_(subquery(ranked, "ranked"), copy=False)
                .where(exp.EQ(this=col("__rn"), expression=exp.Literal.number(1)), copy=False)
            )
        return exp.select(*result).from_(subquery(per_period, "d"), copy=False)


def render(
    plan: QueryPlan, relation: RelationFn = default_relation, dialect: t.Optional[str] = "duckdb"
) -> t.Tuple[exp.Select, t.Dict[str, t.Set[str]]]:
    """The plan as one SELECT, and the columns it reads of each semantic model."""
    renderer = Renderer(plan, relation, dialect)
    return renderer.render(), renderer.reads
