"""Rendering: a `QueryPlan` becomes one sqlglot SELECT (CTEs for intermediate nodes), rendered in any dialect.

Nothing is spliced as text: dimension, measure and filter SQL is parsed once and the trees are qualified with table
aliases and assembled with sqlglot's builders. Time values at day grain or coarser are DATEs in every dialect.
Several nodes are combined on the group-by keys with `UNION ALL` + `GROUP BY` (NULL-safe, unlike a FULL OUTER JOIN
on nullable keys), and a query answered by one aggregate is rendered as a single SELECT ... GROUP BY.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlglot
from sqlglot import exp

from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError
from seeknal_sqlmesh.semantic.plan import (
    Aggregate,
    Compute,
    Cumulative,
    Filter,
    Node,
    QueryPlan,
    Shift,
    Source,
    SpineJoin,
)
from seeknal_sqlmesh.semantic.query import GroupBy, TimeRange
from seeknal_sqlmesh.semantic.resolve import (
    LEFT,
    RIGHT,
    Element,
    JoinPath,
    ResolvedManifest,
    parse_expr,
    qualify,
    split_grain,
)
from seeknal_sqlmesh.semantic.sql import to_sql

RelationFn = t.Callable[[ir.Relation], exp.Table]
_EXTRACT = {"dow": "ISODOW", "doy": "DOY"}


_TYPES = {name: exp.DataType.build(name) for name in ("date", "timestamp", "double")}


def cast(e: exp.Expression, to: str) -> exp.Cast:
    return exp.Cast(this=e, to=_TYPES[to].copy())


def alias(e: exp.Expression, name: t.Union[str, exp.Identifier], table: bool = False) -> exp.Expression:
    return exp.alias_(e, name, table=table, copy=False)


def default_relation(rel: ir.Relation) -> exp.Table:
    return exp.to_table(rel.name)


# ---------------------------------------------------------------- time helpers


def trunc(e: exp.Expression, grain: str) -> exp.Expression:
    if grain == "hour":
        return exp.TimestampTrunc(this=e, unit=exp.var("HOUR"))
    if grain == "day":
        return cast(e, "date")
    return cast(exp.DateTrunc(unit=exp.Literal.string(grain.upper()), this=e), "date")


def extract(e: exp.Expression, part: str) -> exp.Expression:
    return exp.Extract(this=exp.var(_EXTRACT.get(part, part.upper())), expression=e)


def time_key(e: exp.Expression, g: GroupBy) -> exp.Expression:
    return extract(e, g.date_part) if g.date_part else trunc(e, g.grain or "day")


def interval(count: int, unit: str) -> exp.Interval:
    if unit == "quarter":
        count, unit = count * 3, "month"
    elif unit == "week":
        count, unit = count * 7, "day"
    return exp.Interval(this=exp.Literal.string(str(count)), unit=exp.var(unit.upper()))


def time_literal(value: dt.datetime) -> exp.Expression:
    if value.time() == dt.time(0):
        return cast(exp.Literal.string(value.date().isoformat()), "date")
    return cast(exp.Literal.string(value.isoformat(sep=" ")), "timestamp")


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name)


def table(name: str, alias: t.Optional[str] = None) -> exp.Table:
    tbl = exp.Table(this=ident(name))
    return exp.alias_(tbl, alias, table=True, copy=False) if alias else tbl


def col(name: str, table: t.Optional[str] = None) -> exp.Column:
    return exp.column(ident(name), table=ident(table) if table else None)


def and_all(conds: t.Sequence[exp.Expression]) -> t.Optional[exp.Expression]:
    conds = [c for c in conds if c is not None]
    if not conds:
        return None
    return exp.and_(*[exp.paren(c, copy=False) if isinstance(c, exp.Or) else c for c in conds], copy=False)


# ---------------------------------------------------------------- scans


class Scan:
    """FROM a semantic model's relation, with the many-to-one joins that keys and filters need."""

    def __init__(self, r: Renderer, src: Source):
        self.r = r
        self.src = src
        self.model = src.model
        self.base = r.alias(src.model.name)
        self.aliases: t.Dict[tuple, str] = {(): self.base}
        self.alias_models: t.Dict[str, ir.SemanticModel] = {self.base: src.model}
        self.joins: t.List[exp.Join] = []

    def alias_for(self, path: JoinPath) -> str:
        current = self.base
        for i, step in enumerate(path.steps):
            key = tuple((s.link, s.right) for s in path.steps[: i + 1])
            if key not in self.aliases:
                new = self.r.alias(step.right, taken=set(self.aliases.values()))
                cond = step.condition.copy()
                for c in cond.find_all(exp.Column):
                    if c.table == LEFT:
                        c.set("table", ident(current))
                    elif c.table == RIGHT:
                        c.set("table", ident(new))
                model = self.r.res.models[step.right]
                self.joins.append(
                    exp.Join(this=alias(self.r.relation(model.relation), new, table=True), on=cond, kind="LEFT")
                )
                self.aliases[key] = new
                self.alias_models[new] = model
            current = self.aliases[key]
        return current

    def element_expr(self, el: Element) -> exp.Expression:
        model = self.r.res.models[el.model]
        sql = model.entity(el.name).expr if el.kind == "entity" else model.dimension(el.name).expr
        return qualify(parse_expr(sql, model.dialect), self.alias_for(el.path), copy=False)

    def time_expr(self) -> exp.Expression:
        if self.src.time_dim is None:
            raise QueryError(
                f"semantic model '{self.model.name}' has no aggregation time dimension for metric_time "
                "(set default_time_dimension / defaults.agg_time_dimension)"
            )
        return qualify(parse_expr(self.src.time_dim.expr, self.model.dialect), self.base, copy=False)

    def key_expr(self, g: GroupBy) -> exp.Expression:
        if g.kind == "metric_time":
            return time_key(self.time_expr(), g)
        el = self.r.res.element_for(self.model.name, g.canonical)
        if el is None:
            raise QueryError(f"'{g.name}' is not reachable from semantic model '{self.model.name}'")
        e = self.element_expr(el)
        return time_key(e, g) if g.kind == "time" else e

    def name_expr(self, name: str) -> exp.Expression:
        """A name in a definition filter: metric_time, a reachable dimension/entity, else a raw column."""
        base, grain, part = split_grain(name)
        if base == "metric_time":
            return time_key(
                self.time_expr(), GroupBy(name, base, "metric_time", None if part else (grain or "day"), part)
            )
        el = self.r.res.lookup(self.model.name, base)
        if el is None or (el.kind == "ambiguous"):
            return col(name, self.base)
        e = self.element_expr(el)
        if el.kind == "time" and (grain or part):
            return time_key(e, GroupBy(name, el.identity, "time", grain, part))
        return e

    def bind(self, f: Filter) -> exp.Expression:
        if f.bindings is not None:
            return f.parsed.bind({n: self.key_expr(g) for n, g in f.bindings.items()})
        return f.parsed.bind({n: self.name_expr(n) for n in f.parsed.names})

    def raw_bind(self, text: str) -> exp.Expression:
        """Seeknal measure filters: SQL over the model's own columns (dimension names resolve to their expr)."""
        parsed = self.r.parse_filter(text)
        mapping = {}
        for n in parsed.names:
            d = self.model.dimension(n)
            mapping[n] = (
                qualify(parse_expr(d.expr, self.model.dialect), self.base, copy=False) if d else col(n, self.base)
            )
        return parsed.bind(mapping)

    def conditions(self, skip_time_start: bool = False) -> t.List[exp.Expression]:
        conds = [self.bind(f) for f in self.src.filters]
        tr = self.src.time_range
        if tr is not None:
            if tr.start is not None and not self.src.end_only:
                conds.append(exp.GTE(this=self.time_expr(), expression=time_literal(tr.start)))
            if tr.end is not None:
                conds.append(exp.LT(this=self.time_expr(), expression=time_literal(tr.end)))
        return conds

    def apply(self, sel: exp.Select, conds: t.Sequence[exp.Expression]) -> exp.Select:
        sel = sel.from_(alias(self.r.relation(self.model.relation), self.base, table=True), copy=False)
        for j in self.joins:
            sel = sel.join(j, copy=False)
        where = and_all(conds)
        if where is not None:
            sel = sel.where(where, copy=False)
        for c in sel.find_all(exp.Column):
            model = self.alias_models.get(c.table)
            if model is not None and c.name:
                self.r.reads.setdefault(model.name, set()).add(c.name)
        return sel

    def measure_input(self, m: ir.Measure) -> exp.Expression:
        e = qualify(parse_expr(m.expr, self.model.dialect), self.base, copy=False)
        if m.filters:
            cond = and_all([self.raw_bind(f) for f in m.filters])
            e = exp.Case(ifs=[exp.If(this=cond, true=e)])
        return e


def aggregate(agg: str, e: exp.Expression, percentile: t.Optional[float] = None) -> exp.Expression:
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
    if agg == "percentile":
        return exp.WithinGroup(
            this=exp.PercentileCont(this=exp.Literal.number(percentile)),
            expression=exp.Order(expressions=[exp.Ordered(this=e)]),
        )
    raise QueryError(f"unsupported aggregation '{agg}'")


# ---------------------------------------------------------------- renderer


class Renderer:
    def __init__(
        self, res: ResolvedManifest, plan: QueryPlan, relation: RelationFn = default_relation, dialect: str = "duckdb"
    ):
        self.res = res
        self.plan = plan
        self._relation = relation
        self.dialect = dialect
        self.keys = plan.group_by
        self.ctes: t.List[exp.CTE] = []
        self.cte_of: t.Dict[int, str] = {}
        self.reads: t.Dict[str, t.Set[str]] = {}
        self._aliases: t.Set[str] = set()
        self._filters: t.Dict[str, t.Any] = {}
        self.parents: t.Dict[int, int] = {}
        for node in plan.walk():
            children = []
            if isinstance(node, Compute):
                children = node.nodes()
            elif isinstance(node, (Shift, SpineJoin)):
                children = [node.input]
            for c in children:
                self.parents[id(c)] = self.parents.get(id(c), 0) + 1

    # ---------------------------------------------------------------- names
    def relation(self, rel: ir.Relation) -> exp.Table:
        return self._relation(rel)

    def parse_filter(self, text: str):
        from seeknal_sqlmesh.semantic.filters import parse_filter

        if text not in self._filters:
            self._filters[text] = parse_filter(text)
        return self._filters[text]

    @staticmethod
    def alias(base: str, taken: t.Optional[t.Set[str]] = None) -> str:
        taken = taken or set()
        name, i = base, 1
        while name in taken:
            i += 1
            name = f"{base}_{i}"
        return name

    def cte_name(self, base: str) -> str:
        name = self.alias(f"sl_{base}", self._aliases)
        self._aliases.add(name)
        return name

    def key_cols(self, table: t.Optional[str] = None) -> t.List[exp.Expression]:
        return [col(g.name, table) for g in self.keys]

    # ---------------------------------------------------------------- entry
    def render(self) -> exp.Select:
        plan = self.plan
        if plan.distinct_source is not None:
            scan = Scan(self, plan.distinct_source)
            keys = [alias(scan.key_expr(g), ident(g.name)) for g in self.keys]
            sel = scan.apply(exp.select(*keys), scan.conditions())
            sel = sel.group_by(*[k.this.copy() for k in keys], copy=False)
        else:
            sel = self.compute_select(plan.root)
        post = self.post_conditions()
        if post:
            sel = exp.select("*").from_(sel.subquery("q", copy=False), copy=False).where(and_all(post), copy=False)
        if plan.query.order_by:
            sel = sel.order_by(
                *[exp.Ordered(this=col(name), desc=desc) for name, desc in plan.query.order_by], copy=False
            )
        if plan.query.limit is not None:
            sel = sel.limit(plan.query.limit, copy=False)
        if self.ctes:
            sel.set("with_", exp.With(expressions=self.ctes))
        return sel

    def post_conditions(self) -> t.List[exp.Expression]:
        conds = []
        plan = self.plan
        if plan.post_time is not None:
            g, tr = plan.post_time
            e = col(g.name)
            if tr.start is not None:
                conds.append(exp.GTE(this=e, expression=time_literal(tr.start)))
            if tr.end is not None:
                conds.append(exp.LT(this=e.copy(), expression=time_literal(tr.end)))
        for f in plan.post_filters:
            mapping = {}
            for n, g in (f.bindings or {}).items():
                if g.kind == "metric_time":
                    driving = self._driving_output(g)
                    mapping[n] = time_key(col(driving.name), g)
                else:
                    same = [
                        k
                        for k in self.keys
                        if k.canonical == g.canonical and k.grain == g.grain and k.date_part == g.date_part
                    ]
                    if not same:
                        raise QueryError(
                            f"filter '{f.parsed.text}' mixes metric_time with '{n}', which is not in the group-by; "
                            "with offset or cumulative metrics add it to the group-by or split the filter"
                        )
                    mapping[n] = col(same[0].name)
            conds.append(f.parsed.bind(mapping))
        return conds

    def _driving_output(self, g: GroupBy) -> GroupBy:
        cands = [k for k in self.keys if k.grain and k.kind in ("metric_time", "time")]
        fine = (
            [k for k in cands if ir.GRAIN_RANK[k.grain] <= ir.GRAIN_RANK[g.grain or "day"]]
            if not g.date_part
            else cands
        )
        pick = sorted(fine or cands, key=lambda k: (k.kind != "metric_time", ir.GRAIN_RANK[k.grain]))
        if not pick:
            raise QueryError("a metric_time filter with offset or cumulative metrics needs metric_time in the group-by")
        return pick[0]

    # ---------------------------------------------------------------- nodes
    def node_cte(self, node: Node) -> str:
        if id(node) in self.cte_of:
            return self.cte_of[id(node)]
        if isinstance(node, Aggregate):
            sel, base = (
                self.aggregate_select(node),
                "_".join(m.name for m in node.measures[:2]) or node.source.model.name,
            )
        elif isinstance(node, Cumulative):
            sel, base = self.cumulative_select(node), f"{node.measure.name}_cumulative"
        elif isinstance(node, Shift):
            sel, base = self.shift_select(node), f"{node.input_column}_offset"
        elif isinstance(node, SpineJoin):
            sel, base = self.spine_join_select(node), f"{node.input_column}_spine"
        elif isinstance(node, Compute):
            sel, base = self.compute_select(node), f"{node.outputs[0][0]}_input"
        else:  # pragma: no cover
            raise TypeError(node)
        name = self.cte_name(base)
        self.ctes.append(exp.CTE(this=sel, alias=exp.TableAlias(this=ident(name))))
        self.cte_of[id(node)] = name
        return name

    def aggregate_select(
        self, node: Aggregate, outputs: t.Optional[t.List[t.Tuple[str, exp.Expression]]] = None, refs=None
    ) -> exp.Select:
        scan = Scan(self, node.source)
        keys = [scan.key_expr(g) for g in self.keys]
        values, conds = {}, {}
        for c in node.columns:
            cond = and_all([scan.bind(f) for f in c.conditions])
            values[c.name] = self.conditional_aggregate(scan, c.measure, cond)
            conds[c.name] = cond
        select = [alias(k, ident(g.name)) for k, g in zip(keys, self.keys)]
        if outputs is None:
            select += [alias(v, ident(n)) for n, v in values.items()]
        else:
            for name, e in outputs:
                select.append(alias(self.substitute(e, refs, lambda ref: values[ref.column].copy()), ident(name)))
        where = scan.conditions()
        if all(c is not None for c in conds.values()):  # skip rows no column counts
            distinct = list({to_sql(c): c for c in conds.values()}.values())
            where.append(
                exp.or_(*[exp.paren(c.copy(), copy=False) for c in distinct], copy=False)
                if len(distinct) > 1
                else distinct[0].copy()
            )
        sel = scan.apply(exp.select(*select), where)
        if keys:
            sel = sel.group_by(*[k.copy() for k in keys], copy=False)
        return sel

    @staticmethod
    def conditional_aggregate(scan: Scan, m: ir.Measure, cond: t.Optional[exp.Expression]) -> exp.Expression:
        """AGG(CASE WHEN cond THEN x END); counts are NULL (not 0) for groups without a matching row, like a separate
        filtered aggregate combined with the others."""
        value = scan.measure_input(m)
        if cond is None:
            return aggregate(m.agg, value, m.percentile)
        agg = aggregate(m.agg, exp.Case(ifs=[exp.If(this=cond.copy(), true=value)]), m.percentile)
        if m.agg not in ("count", "count_distinct", "sum_boolean"):
            return agg
        matched = exp.GT(
            this=exp.Count(this=exp.Case(ifs=[exp.If(this=cond.copy(), true=exp.Literal.number(1))])),
            expression=exp.Literal.number(0),
        )
        return exp.Case(ifs=[exp.If(this=matched, true=agg)])

    def substitute(self, e: exp.Expression, refs, value_of) -> exp.Expression:
        def swap(n: exp.Expression) -> exp.Expression:
            if isinstance(n, exp.Column) and n.name in refs:
                ref = refs[n.name]
                v = value_of(ref)
                if ref.fill is not None:
                    v = exp.Coalesce(this=v, expressions=[exp.Literal.number(ref.fill)])
                return v
            return n

        return e.copy().transform(swap, copy=False)

    def compute_select(self, node: Compute) -> exp.Select:
        nodes = node.nodes()
        refs = node.refs
        if len(nodes) == 1 and isinstance(nodes[0], Aggregate) and self.parents.get(id(nodes[0]), 0) <= 1:
            return self.aggregate_select(nodes[0], node.outputs, refs)
        if not nodes:
            return exp.select(*[alias(e.copy(), ident(n)) for n, e in node.outputs])
        if len(nodes) == 1:
            src = self.node_cte(nodes[0])
            select = [alias(c, ident(g.name)) for c, g in zip(self.key_cols("c"), self.keys)]
            select += [
                alias(self.substitute(e, refs, lambda ref: col(ref.column, "c")), ident(n)) for n, e in node.outputs
            ]
            return exp.select(*select).from_(table(src, "c"), copy=False)
        # several nodes: UNION ALL of their values on the keys, then one row per key
        slots: t.Dict[t.Tuple[int, str], str] = {}
        for ref in refs.values():
            if ref.node in nodes:
                slots.setdefault((id(ref.node), ref.column), f"v{len(slots)}")
        branches = []
        for n in nodes:
            cte = self.node_cte(n)
            items = [alias(c, ident(g.name)) for c, g in zip(self.key_cols(), self.keys)]
            for (nid, column), slot in slots.items():
                value = col(column) if nid == id(n) else exp.Null()
                items.append(alias(value, slot))
            branches.append(exp.select(*items).from_(table(cte), copy=False))
        union = branches[0]
        for b in branches[1:]:
            union = exp.union(union, b, distinct=False, copy=False)
        select = [alias(c, ident(g.name)) for c, g in zip(self.key_cols("u"), self.keys)]
        select += [
            alias(
                self.substitute(e, refs, lambda ref: exp.Max(this=col(slots[(id(ref.node), ref.column)], "u"))),
                ident(n),
            )
            for n, e in node.outputs
        ]
        sel = exp.select(*select).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident("u"))), copy=False)
        if self.keys:
            sel = sel.group_by(*self.key_cols("u"), copy=False)
        return sel

    # ---------------------------------------------------------------- time spine
    def spine(self, lo: exp.Expression, hi: exp.Expression) -> exp.Select:
        """One row per day between lo and hi (DATEs, inclusive), column `ds`."""
        ts = self.res.time_spine
        if ts is not None:
            ds = cast(col(ts.column), "date")
            return (
                exp.select(alias(ds, "ds"))
                .from_(self.relation(ts.relation), copy=False)
                .where(exp.Between(this=ds.copy(), low=lo, high=hi), copy=False)
            )
        if self.dialect in ("duckdb", "postgres", "redshift"):
            series = exp.GenerateSeries(start=cast(lo, "timestamp"), end=cast(hi, "timestamp"), step=interval(1, "day"))
            value = exp.Unnest(expressions=[series]) if self.dialect == "duckdb" else series
            return exp.select(alias(cast(value, "date"), "ds"))
        # StarRocks / MySQL-like: offsets from the first day
        tmpl = sqlglot.parse_one(
            "SELECT DAYS_ADD(__lo, generate_series) AS ds FROM TABLE(generate_series(0, DATEDIFF(__hi, __lo)))",
            read="starrocks",
        )
        return tmpl.transform(
            lambda n: (
                (lo.copy() if n.name == "__lo" else hi.copy())
                if isinstance(n, exp.Column) and n.name in ("__lo", "__hi")
                else n
            )
        )

    def bounds(self, tr: t.Optional[TimeRange], cte: str, column: str) -> t.Tuple[exp.Expression, exp.Expression]:
        def data(fn):
            return exp.Subquery(this=exp.select(fn(this=col(column))).from_(table(cte), copy=False))

        lo = time_literal(tr.start) if tr is not None and tr.start is not None else data(exp.Min)
        if tr is not None and tr.end is not None:
            hi = time_literal(tr.end - dt.timedelta(days=1))
        else:
            hi = data(exp.Max)
        return cast(lo, "date"), cast(hi, "date")

    def period_spine(self, node, grain: str, lo, hi) -> str:
        spine = self.spine(lo, hi)
        sel = (
            exp.select(alias(trunc(col("ds", "s"), grain), "period"))
            .from_(spine.subquery("s", copy=False), copy=False)
            .distinct(copy=False)
        )
        name = self.cte_name(f"spine_{grain}")
        self.ctes.append(exp.CTE(this=sel, alias=exp.TableAlias(this=ident(name))))
        return name

    def keys_from_time(
        self, time: exp.Expression, driving: GroupBy, measures, other_table: str
    ) -> t.List[exp.Expression]:
        """Output keys of a time node: time-like keys from `time` (at the driving grain), others from `other_table`."""
        out = []
        for g in self.keys:
            if g is driving:
                out.append(alias(time.copy(), ident(g.name)))
            elif self.is_own_time(g, measures):
                out.append(alias(time_key(time.copy(), g), ident(g.name)))
            else:
                out.append(alias(col(g.name, other_table), ident(g.name)))
        return out

    def is_own_time(self, g: GroupBy, measures) -> bool:
        return self.res.is_own_time(g, measures)

    def measures_below(self, node: Node) -> t.List[ir.Measure]:
        if isinstance(node, Aggregate):
            return list(node.measures)
        if isinstance(node, Cumulative):
            return [node.measure]
        if isinstance(node, (Shift, SpineJoin)):
            return self.measures_below(node.input)
        out = []
        for ref in node.refs.values():
            out += self.measures_below(ref.node)
        return out

    def spine_lookup(
        self,
        node: t.Union[Shift, SpineJoin],
        source_period: t.Callable[[exp.Expression], exp.Expression],
        join_type: t.Optional[str],
    ) -> exp.Select:
        """Every period of the spine at the driving grain, with the input's value of `source_period(period)`."""
        inp = self.node_cte(node.input)
        g = node.driving
        lo, hi = self.bounds(node.bounds, inp, g.name)
        spine = self.period_spine(node, g.grain, lo, hi)
        period = col("period", "p")
        measures = self.measures_below(node.input)
        select = self.keys_from_time(period, g, measures, "i") + [
            alias(col(node.input_column, "i"), ident(node.input_column))
        ]
        on = exp.EQ(this=col(g.name, "i"), expression=source_period(period.copy()))
        return (
            exp.select(*select)
            .from_(table(spine, "p"), copy=False)
            .join(table(inp, "i"), on=on, join_type=join_type, copy=False)
        )

    def shift_select(self, node: Shift) -> exp.Select:
        g, off = node.driving, node.offset
        if off.to_grain:
            if ir.GRAIN_RANK[off.to_grain] < ir.GRAIN_RANK[g.grain]:
                raise QueryError(f"offset_to_grain {off.to_grain} is finer than the queried {g.grain} grain")
            return self.spine_lookup(node, lambda p: trunc(trunc(p, off.to_grain), g.grain), None)
        return self.spine_lookup(
            node, lambda p: trunc(exp.Sub(this=p, expression=interval(off.count, off.unit)), g.grain), None
        )

    def spine_join_select(self, node: SpineJoin) -> exp.Select:
        return self.spine_lookup(node, lambda p: p, "LEFT")

    def cumulative_select(self, node: Cumulative) -> exp.Select:
        m = node.measure
        scan = Scan(self, node.source)
        others = [g for g in self.keys if not self.is_own_time(g, [m])]
        day = trunc(scan.time_expr(), "day")
        partial = ir.ADDITIVE_AGGS.get(m.agg)
        items = [alias(day, "__time")] + [alias(scan.key_expr(g), ident(g.name)) for g in others]
        value = scan.measure_input(m)
        if partial:
            items.append(alias(aggregate(m.agg, value), "__value"))
        else:
            items.append(alias(value, "__value"))
        src = scan.apply(exp.select(*items), scan.conditions())
        if partial:
            src = src.group_by(*[i.this.copy() for i in items[:-1]], copy=False)
        src_name = self.cte_name(f"{m.name}_rows")
        self.ctes.append(exp.CTE(this=src, alias=exp.TableAlias(this=ident(src_name))))
        lo, hi = self.bounds(node.bounds, src_name, "__time")
        spine_name = self.cte_name("spine_day")
        self.ctes.append(exp.CTE(this=self.spine(lo, hi), alias=exp.TableAlias(this=ident(spine_name))))
        ds, t_ = col("ds", "s"), col("__time", "r")
        conds = [exp.LTE(this=t_.copy(), expression=ds.copy())]
        if node.window is not None:
            conds.append(
                exp.GT(
                    this=t_.copy(),
                    expression=exp.Sub(this=ds.copy(), expression=interval(node.window.count, node.window.unit)),
                )
            )
        elif node.grain_to_date:
            conds.append(exp.GTE(this=t_.copy(), expression=trunc(ds.copy(), node.grain_to_date)))
        final = {"sum": exp.Sum, "min": exp.Min, "max": exp.Max}[partial] if partial else None
        agg_value = final(this=col("__value", "r")) if final else aggregate(m.agg, col("__value", "r"), m.percentile)
        day_sel = (
            exp.select(
                alias(ds.copy(), "__time"),
                *[alias(col(g.name, "r"), ident(g.name)) for g in others],
                alias(agg_value, "__value"),
            )
            .from_(table(spine_name, "s"), copy=False)
            .join(table(src_name, "r"), on=and_all(conds), copy=False)
            .group_by(ds.copy(), *[col(g.name, "r") for g in others], copy=False)
        )
        g = node.driving
        column = node.column()
        if g.grain == "day":
            select = self.keys_from_time(col("__time", "d"), g, [m], "d") + [alias(col("__value", "d"), ident(column))]
            return exp.select(*select).from_(day_sel.subquery("d", copy=False), copy=False)
        period = trunc(col("__time"), g.grain)
        if node.period_agg == "average":
            inner = (
                exp.select(
                    alias(period, "__time"),
                    *[col(x.name) for x in others],
                    alias(exp.Avg(this=col("__value")), "__value"),
                )
                .from_(day_sel.subquery("d", copy=False), copy=False)
                .group_by(period.copy(), *[col(x.name) for x in others], copy=False)
            )
        else:
            order = exp.Ordered(this=col("__time"), desc=node.period_agg == "last")
            rn = exp.Window(
                this=exp.RowNumber(),
                partition_by=[period.copy(), *[col(x.name) for x in others]],
                order=exp.Order(expressions=[order]),
            )
            ranked = exp.select(
                alias(period.copy(), "__period"), *[col(x.name) for x in others], col("__value"), alias(rn, "__rn")
            ).from_(day_sel.subquery("d", copy=False), copy=False)
            inner = (
                exp.select(alias(col("__period"), "__time"), *[col(x.name) for x in others], col("__value"))
                .from_(ranked.subquery("ranked", copy=False), copy=False)
                .where(exp.EQ(this=col("__rn"), expression=exp.Literal.number(1)), copy=False)
            )
        select = self.keys_from_time(col("__time", "d"), g, [m], "d") + [alias(col("__value", "d"), ident(column))]
        return exp.select(*select).from_(inner.subquery("d", copy=False), copy=False)


def render(
    res: ResolvedManifest, plan: QueryPlan, relation: RelationFn = default_relation, dialect: str = "duckdb"
) -> t.Tuple[exp.Select, t.Dict[str, t.Set[str]]]:
    r = Renderer(res, plan, relation, dialect)
    return r.render(), r.reads
