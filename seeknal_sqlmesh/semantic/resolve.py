"""Resolution: validate a manifest and build what queries are planned against.

- validation, with file and field for every problem (unknown measure or metric, dimension without a model,
  expression or filter that does not parse or names nothing, cycle in derived metrics, ambiguous join path);
- the entity join graph: model A joins model B through entity `e` when A has `e` (any type) and B has `e` as
  primary or unique (never towards a foreign entity: that would fan out), plus Seeknal's explicit many_to_one joins;
- the linkable elements of every model: `<entity path>__<dimension>` names reachable in at most MAX_HOPS joins, and
  the bare names Seeknal users write (`status`), resolved to the nearest model;
- the metric dependency graph (derived and ratio inputs) and the measures behind every metric;
- nearest-name suggestions for unknown names.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from seeknal_sqlmesh.errors import Problem
from seeknal_sqlmesh.semantic import ir
from seeknal_sqlmesh.semantic.errors import QueryError, SemanticDefinitionError, suggest
from seeknal_sqlmesh.semantic.filters import FilterError, parse_filter
from seeknal_sqlmesh.sqlkit import Expr, qualify, to_sql

if t.TYPE_CHECKING:
    from seeknal_sqlmesh.semantic.query import GroupBy

MAX_HOPS = 3
LEFT, RIGHT = "__left", "__right"  # table placeholders in join conditions


@lru_cache(maxsize=4096)
def _parse_cached(sql: str, dialect: str) -> Expr:
    return sqlglot.parse_one(sql, read=dialect)


def parse_expr(sql: str, dialect: str = "duckdb") -> Expr:
    """Parse a column expression of a model (dimension, entity, measure); a fresh copy every call."""
    return _parse_cached(sql, dialect).copy()


@dataclass(frozen=True)
class JoinStep:
    """One many-to-one join: from model `left` to model `right` (which reads `relation`) through `link`."""

    link: str  # entity name (or explicit join target)
    left: str
    right: str
    condition: Expr = field(compare=False, hash=False)  # columns qualified with LEFT / RIGHT
    relation: ir.Relation = field(compare=False, hash=False)  # what `right` reads


@dataclass(frozen=True)
class JoinPath:
    steps: t.Tuple[JoinStep, ...] = ()

    @property
    def links(self) -> t.Tuple[str, ...]:
        return tuple(s.link for s in self.steps)

    def target(self, base: str) -> str:
        return self.steps[-1].right if self.steps else base

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class Element:
    """A dimension or entity as reachable from one model."""

    canonical: str  # '<entity path>__<name>' without grain
    kind: str  # dimension | time | entity
    model: str  # model holding it
    name: str  # dimension / entity name in that model
    path: JoinPath

    @property
    def hops(self) -> int:
        return len(self.path)

    @property
    def identity(self) -> str:
        """What the element is, whatever the path: '<model>.<name>' (the same from every measure model)."""
        return f"{self.model}.{self.name}"

    @property
    def links(self) -> t.Tuple[str, ...]:
        return tuple(self.canonical.split("__")[:-1])


@dataclass
class ModelIndex:
    elements: t.Dict[str, Element] = field(default_factory=dict)  # canonical -> element
    bare: t.Dict[str, t.List[Element]] = field(default_factory=dict)  # dimension/entity name -> candidates
    by_identity: t.Dict[str, Element] = field(default_factory=dict)  # '<model>.<name>' -> nearest element


class ResolvedManifest:
    """A validated manifest with its join graph, element index and metric graph."""

    def __init__(self, manifest: ir.SemanticManifest):
        self.manifest = manifest
        self.problems: t.List[Problem] = []
        self.warnings: t.List[Problem] = []
        self.models: t.Dict[str, ir.SemanticModel] = {}
        self.measures: t.Dict[str, ir.Measure] = {}
        self.metrics: t.Dict[str, ir.Metric] = {}
        self.metric_names: t.Dict[str, str] = {}  # name or alias -> metric name
        self.edges: t.Dict[str, t.List[JoinStep]] = {}
        self.index: t.Dict[str, ModelIndex] = {}
        self.metric_inputs: t.Dict[str, t.List[str]] = {}
        self.time_spine = manifest.time_spine
        self._collect()
        self._build_graph()
        self._check_models()
        self._check_metrics()
        if self.problems:
            raise SemanticDefinitionError(self.problems)

    # ---------------------------------------------------------------- problems
    def _error(self, origin: ir.Origin, obj: str, fld: str, message: str) -> None:
        self.problems.append(Problem(origin.file, obj, origin.field(fld) if fld else origin.path, message))

    # ---------------------------------------------------------------- names
    def _register(self, table: dict, item, obj: str, what: str, where: str) -> bool:
        prior = table.get(item.name)
        if prior is not None:
            self._error(
                item.origin, obj, "name", f"{what} '{item.name}' is also defined in {where.format(prior=prior)}"
            )
            return False
        table[item.name] = item
        return True

    def _collect(self) -> None:
        for model in self.manifest.models:
            if self._register(self.models, model, model.name, "semantic model", "{prior.origin.file}"):
                for m in model.measures:
                    self._register(
                        self.measures,
                        m,
                        model.name,
                        "measure",
                        "semantic model '{prior.model}' ({prior.origin.file}); measure names must be unique",
                    )
        for metric in self.manifest.metrics:
            self._register(self.metrics, metric, metric.name, "metric", "{prior.origin.file}")
        # Seeknal: every measure without a same-named metric is a simple metric; MetricFlow: `create_metric: true`
        for m in self.measures.values():
            if m.create_metric and m.name not in self.metrics:
                self.metrics[m.name] = ir.Metric(
                    name=m.name,
                    type="simple",
                    origin=m.origin,
                    measure=ir.MetricInput(m.name, is_measure=True),
                    aliases=list(m.aliases),
                    description=m.description,
                    implicit=True,
                )
        for metric in self.metrics.values():
            self.metric_names[metric.name] = metric.name
        for metric in self.metrics.values():
            for alias in metric.aliases:
                if alias in self.metric_names and self.metric_names[alias] != metric.name:
                    self._error(
                        metric.origin,
                        metric.name,
                        "aliases",
                        f"alias '{alias}' is already the name of metric '{self.metric_names[alias]}'",
                    )
                else:
                    self.metric_names[alias] = metric.name

    # ---------------------------------------------------------------- graph
    def _parse(self, sql: str, dialect: str, origin: ir.Origin, obj: str, fld: str) -> t.Optional[Expr]:
        try:
            tree = parse_expr(sql, dialect)
        except (ParseError, ValueError) as e:
            self._error(origin, obj, fld, f"'{sql}' is not a SQL expression: {str(e).splitlines()[0]}")
            return None
        if any(isinstance(n, (exp.Query, exp.Subquery, exp.DDL, exp.DML, exp.Command, exp.Table)) for n in tree.walk()):
            self._error(
                origin, obj, fld, f"'{sql}' must be a column expression of the model (no subqueries or statements)"
            )
            return None
        return tree

    def _build_graph(self) -> None:
        keyed: t.Dict[str, t.List[t.Tuple[ir.SemanticModel, ir.Entity]]] = {}
        for model in self.models.values():
            for ent in model.entities:
                if ent.type in ("primary", "unique"):
                    keyed.setdefault(ent.name, []).append((model, ent))
        for model in self.models.values():
            steps: t.List[JoinStep] = []
            for ent in model.entities:
                left = self._parse(ent.expr, model.dialect, model.origin, model.name, f"entities.{ent.name}.expr")
                for other, other_ent in keyed.get(ent.name, []):
                    if other is model:
                        continue
                    right = self._parse(
                        other_ent.expr, other.dialect, other.origin, other.name, f"entities.{ent.name}.expr"
                    )
                    if left is None or right is None:
                        continue
                    steps.append(
                        JoinStep(
                            ent.name,
                            model.name,
                            other.name,
                            exp.EQ(this=qualify(left, LEFT), expression=qualify(right, RIGHT)),
                            other.relation,
                        )
                    )
            for j in model.joins:
                step = self._explicit_join(model, j, steps)
                if step is not None:
                    steps.append(step)
            self.edges[model.name] = steps

    def _explicit_join(
        self, model: ir.SemanticModel, j: ir.ExplicitJoin, steps: t.List[JoinStep]
    ) -> t.Optional[JoinStep]:
        if j.target not in self.models:
            self._error(
                j.origin,
                model.name,
                "name",
                f"join target '{j.target}' is not a semantic model{suggest(j.target, self.models)}",
            )
            return None
        if j.relationship == "one_to_many":
            self.warnings.append(
                Problem(
                    j.origin.file,
                    model.name,
                    j.origin.field("relationship"),
                    f"one_to_many join to '{j.target}' is not used: it would multiply measures (fan-out)",
                )
            )
            return None
        sql = j.sql.replace("{CUBE}", LEFT).replace(f"{{{j.target}}}", RIGHT)
        if "{" in sql:
            self._error(j.origin, model.name, "sql", f"join sql '{j.sql}' may only use {{CUBE}} and {{{j.target}}}")
            return None
        cond = self._parse(sql, model.dialect, j.origin, model.name, "sql")
        if cond is None:
            return None
        for col in cond.find_all(exp.Column):
            if col.table not in (LEFT, RIGHT):
                self._error(
                    j.origin,
                    model.name,
                    "sql",
                    f"join sql '{j.sql}': qualify every column with {{CUBE}} or {{{j.target}}}",
                )
                return None
        if any(s.right == j.target for s in steps):
            return None  # the entity graph already joins these models (usually the same condition)
        return JoinStep(j.target, model.name, j.target, cond, self.models[j.target].relation)

    def paths(self, model: str) -> t.List[JoinPath]:
        out = [JoinPath(())]
        frontier = [JoinPath(())]
        for _ in range(MAX_HOPS):
            nxt = []
            for path in frontier:
                seen = {model, *(s.right for s in path.steps)}
                for step in self.edges.get(path.target(model), []):
                    if step.right in seen:
                        continue
                    new = JoinPath((*path.steps, step))
                    out.append(new)
                    nxt.append(new)
            frontier = nxt
        return out

    def _index_model(self, model: ir.SemanticModel) -> ModelIndex:
        idx = ModelIndex()
        for path in self.paths(model.name):
            target = self.models[path.target(model.name)]
            links = path.links if path.steps else ((target.key_entity,) if target.key_entity else ())
            items: t.List[t.Tuple[str, str, str]] = [
                (d.name, "time" if d.type == "time" else "dimension", d.name) for d in target.dimensions
            ]
            for e in target.entities:
                if path.steps and e.name == path.links[-1]:
                    continue
                items.append((e.name, "entity", e.name))
            for element_name, kind, name in items:
                if kind == "entity":
                    canonical = "__".join((*path.links, name)) if path.steps else name
                else:
                    canonical = "__".join((*links, name))
                element = Element(canonical, kind, target.name, name, path)
                prior = idx.elements.get(canonical)
                if prior is not None and prior.model != element.model:
                    if prior.hops == element.hops:
                        idx.elements[canonical] = Element(
                            canonical, "ambiguous", prior.model + "|" + element.model, name, path
                        )
                    elif element.hops < prior.hops:
                        idx.elements[canonical] = element
                    continue
                if prior is None:
                    idx.elements[canonical] = element
                    idx.bare.setdefault(element_name, []).append(element)
        for el in idx.elements.values():
            if el.kind == "ambiguous":
                continue
            best = idx.by_identity.get(el.identity)
            if best is None or el.hops < best.hops:
                idx.by_identity[el.identity] = el
        return idx

    def _check_models(self) -> None:
        for model in self.models.values():
            seen: t.Set[str] = set()
            for kind, items in (
                ("entities", model.entities),
                ("dimensions", model.dimensions),
                ("measures", model.measures),
            ):
                for item in items:
                    if item.name in seen:
                        self._error(
                            model.origin,
                            model.name,
                            f"{kind}.{item.name}",
                            f"'{item.name}' is declared twice in semantic model '{model.name}'",
                        )
                    seen.add(item.name)
            if not model.entities:
                self._error(model.origin, model.name, "entities", "a semantic model needs at least one entity")
            for d in model.dimensions:
                self._parse(d.expr, model.dialect, model.origin, model.name, f"dimensions.{d.name}.expr")
            for m in model.measures:
                self._parse(m.expr, model.dialect, m.origin, model.name, "expr")
                for i, f in enumerate(m.filters):
                    try:
                        parse_filter(f, model.dialect)
                    except FilterError as e:
                        self._error(m.origin, model.name, f"filters[{i}]", str(e))
            checks = (
                [(model.agg_time_dimension, model.origin, "default_time_dimension")] if model.agg_time_dimension else []
            )
            checks += [
                (m.agg_time_dimension, m.origin, "agg_time_dimension") for m in model.measures if m.agg_time_dimension
            ]
            for atd, origin, fld in checks:
                dim = model.dimension(atd)
                if dim is None:
                    self._error(
                        origin,
                        model.name,
                        fld,
                        f"'{atd}' is not a dimension of semantic model '{model.name}'{suggest(atd, [d.name for d in model.dimensions])}",
                    )
                elif dim.type != "time":
                    self._error(
                        origin,
                        model.name,
                        fld,
                        f"'{atd}' is a {dim.type} dimension; the aggregation time dimension must be of type time",
                    )
            self.index[model.name] = idx = self._index_model(model)
            for canonical, el in idx.elements.items():
                if el.kind == "ambiguous":
                    a, b = el.model.split("|")
                    self._error(
                        model.origin,
                        model.name,
                        "entities",
                        f"ambiguous join path: '{canonical}' is reachable from '{model.name}' in {el.hops} join(s) in both '{a}' and '{b}'",
                    )

    # ---------------------------------------------------------------- metrics
    def measure_model(self, measure: str) -> ir.SemanticModel:
        return self.models[self.measures[measure].model]

    def agg_time_dimension(self, measure: ir.Measure) -> t.Optional[ir.Dimension]:
        model = self.models[measure.model]
        name = measure.agg_time_dimension or model.agg_time_dimension
        return model.dimension(name) if name else None

    def is_own_time(self, g: GroupBy, measures: t.Sequence[ir.Measure]) -> bool:
        """Whether the group-by `g` is the measures' own time: metric_time, or their aggregation time dimension."""
        if g.kind == "metric_time":
            return True
        if g.kind != "time":
            return False
        for m in measures:
            el = self.element_for(m.model, g.canonical)
            atd = self.agg_time_dimension(m)
            if el is None or el.hops != 0 or atd is None or el.name != atd.name:
                return False
        return True

    def _check_metrics(self) -> None:
        for metric in self.metrics.values():
            deps: t.List[str] = []
            o = metric.origin
            if metric.type in ("simple", "cumulative"):
                if metric.measure is None or metric.measure.name not in self.measures:
                    name = metric.measure.name if metric.measure else "?"
                    self._error(o, metric.name, "measure", f"unknown measure '{name}'{suggest(name, self.measures)}")
                    continue
                if metric.window and metric.grain_to_date:
                    self._error(o, metric.name, "window", "use either window or grain_to_date")
            elif metric.type == "ratio":
                for part in ("numerator", "denominator"):
                    inp: ir.MetricInput = getattr(metric, part)
                    if inp.is_measure:
                        if inp.name not in self.measures:
                            hint = suggest(inp.name, self.measures)
                            self._error(
                                o,
                                metric.name,
                                part,
                                f"unknown measure '{inp.name}'{hint} (Seeknal ratio operands are measures)",
                            )
                    elif inp.name not in self.metric_names:
                        self._error(
                            o, metric.name, part, f"unknown metric '{inp.name}'{suggest(inp.name, self.metric_names)}"
                        )
                    else:
                        deps.append(self.metric_names[inp.name])
            else:
                names = {}
                for i, inp in enumerate(metric.inputs):
                    if inp.name not in self.metric_names:
                        self._error(
                            o,
                            metric.name,
                            f"inputs[{i}]",
                            f"unknown metric '{inp.name}'{suggest(inp.name, self.metric_names)}",
                        )
                        continue
                    deps.append(self.metric_names[inp.name])
                    key = inp.alias or inp.name
                    if key in names:
                        self._error(
                            o, metric.name, f"inputs[{i}].alias", f"'{key}' is used by two inputs; give each an alias"
                        )
                    names[key] = inp
                if not metric.inputs:
                    self._error(o, metric.name, "inputs", "a derived metric needs at least one input metric")
                tree = self._parse(metric.expr or "", "duckdb", o, metric.name, "expr")
                if tree is not None:
                    if any(isinstance(n, (exp.AggFunc, exp.Window, exp.Star)) for n in tree.walk()):
                        self._error(
                            o,
                            metric.name,
                            "expr",
                            f"'{metric.expr}' must combine input metrics without aggregate or window functions",
                        )
                    for col in tree.find_all(exp.Column):
                        if col.name not in names:
                            self._error(
                                o,
                                metric.name,
                                "expr",
                                f"'{to_sql(col)}' in expr is not an input of the metric{suggest(col.name, names)}",
                            )
            self.metric_inputs[metric.name] = deps
        if self._check_cycles():
            return
        for metric in self.metrics.values():
            try:
                self.measures_of(metric.name)
            except KeyError:
                continue  # an unknown input, reported above
            self._check_metric_filters(metric)

    def _check_cycles(self) -> bool:
        state: t.Dict[str, int] = {}
        before = len(self.problems)

        def visit(name: str, stack: t.List[str]) -> None:
            state[name] = 1
            for dep in self.metric_inputs.get(name, []):
                if state.get(dep) == 1:
                    cycle = [*stack[stack.index(dep) :], dep] if dep in stack else [name, dep]
                    m = self.metrics[name]
                    self._error(
                        m.origin, m.name, "inputs", f"metrics depend on each other in a cycle: {' -> '.join(cycle)}"
                    )
                elif state.get(dep) is None:
                    visit(dep, [*stack, dep])
            state[name] = 2

        for name in self.metrics:
            if state.get(name) is None:
                visit(name, [name])
        return len(self.problems) > before

    def measures_of(self, metric_name: str) -> t.List[ir.Measure]:
        """Every measure a metric is computed from (through its inputs), each once."""
        metric = self.metrics[metric_name]
        if metric.type in ("simple", "cumulative"):
            return [self.measures[metric.measure.name]] if metric.measure else []
        out: t.List[ir.Measure] = []
        inputs = [metric.numerator, metric.denominator] if metric.type == "ratio" else metric.inputs
        for inp in inputs:
            if inp is None:
                continue
            found = [self.measures[inp.name]] if inp.is_measure else self.measures_of(self.metric_names[inp.name])
            out += [m for m in found if m not in out]
        return out

    def _check_metric_filters(self, metric: ir.Metric) -> None:
        models = {m.model for m in self.measures_of(metric.name)}
        checks = [(f"filter[{i}]" if len(metric.filters) > 1 else "filter", f) for i, f in enumerate(metric.filters)]
        for i, inp in enumerate(metric.inputs):
            checks += [(f"inputs[{i}].filter", f) for f in inp.filters]
        for fld, text in checks:
            try:
                parsed = parse_filter(text)
                for model in models:
                    for name in parsed.names:
                        self.filter_element(model, name, raw_columns=True)
            except (FilterError, QueryError) as e:
                self._error(metric.origin, metric.name, fld, str(e))

    # ---------------------------------------------------------------- element lookup
    def filter_element(
        self, model: str, name: str, raw_columns: bool = False
    ) -> t.Optional[t.Tuple[Element, t.Optional[str], t.Optional[str]]]:
        """Resolve a name used in a filter or group-by relative to `model`; None = a raw column (when allowed)."""
        base, grain, part = split_grain(name)
        if base == "metric_time":
            return None
        el = self.lookup(model, base)
        if el is None:
            if raw_columns and "__" not in name:
                return None
            raise QueryError(
                f"'{name}' is not a dimension reachable from semantic model '{model}'"
                f"{suggest(base, self.index[model].elements.keys() | self.index[model].bare.keys())}"
            )
        return el, grain, part

    def lookup(self, model: str, base: str) -> t.Optional[Element]:
        """The nearest element `base` names from `model` (None if none); equally near different elements are ambiguous."""
        found = self.candidates(model, base)
        if not found:
            return None
        best = min(e.hops for e in found.values())
        nearest = sorted((e for e in found.values() if e.hops == best), key=lambda e: e.canonical)
        if len(nearest) > 1:
            raise QueryError(
                f"'{base}' is ambiguous from semantic model '{model}': use one of {', '.join(e.canonical for e in nearest)}"
            )
        return nearest[0]

    def candidates(self, model: str, base: str) -> t.Dict[str, Element]:
        """Every element `base` may mean from `model`, by identity, each with its shortest path.

        `base` is a bare name (`segment`), a full entity path (`customer__region__name`) or a suffix of one
        (`region__name` also reaches the regions model from orders through customers). Two different paths of the
        same length to the same element make it ambiguous."""
        idx = self.index[model]
        parts = base.split("__")
        name, links = parts[-1], tuple(parts[:-1])
        found: t.Dict[str, Element] = {}
        for el in idx.bare.get(name, []):
            if el.kind == "ambiguous" or (links and el.links[-len(links) :] != links):
                continue
            prior = found.get(el.identity)
            if prior is None or el.hops < prior.hops:
                found[el.identity] = el
            elif el.hops == prior.hops and el.path != prior.path and base not in idx.elements:
                raise QueryError(
                    f"'{base}' reaches '{el.identity}' from semantic model '{model}' along two join paths "
                    f"({prior.canonical}, {el.canonical}); ask for one of them"
                )
        if base in idx.elements and idx.elements[base].kind != "ambiguous":  # an exact name is exactly that path
            el = idx.elements[base]
            found[el.identity] = el
        return found

    def element_for(self, model: str, identity: str) -> t.Optional[Element]:
        return self.index[model].by_identity.get(identity)

    def element_sql(self, element: Element) -> Expr:
        """The expression of a dimension or entity over its model's columns (parsed; a fresh copy)."""
        model = self.models[element.model]
        found: t.Union[ir.Entity, ir.Dimension, None] = (
            model.entity(element.name) if element.kind == "entity" else model.dimension(element.name)
        )
        if found is None:  # pragma: no cover - elements are built from the models
            raise QueryError(f"'{element.name}' is not an element of semantic model '{model.name}'")
        return parse_expr(found.expr, model.dialect)

    def all_names(self, models: t.Iterable[str]) -> t.Set[str]:
        names: t.Set[str] = {"metric_time"}
        for m in models:
            names |= set(self.index[m].elements) | set(self.index[m].bare)
        return names


def split_grain(name: str) -> t.Tuple[str, t.Optional[str], t.Optional[str]]:
    """'metric_time__month' -> ('metric_time', 'month', None); 'x__extract_dow' -> ('x', None, 'dow')."""
    if "__" in name:
        head, _, last = name.rpartition("__")
        if last in ir.GRAINS:
            return head, last, None
        if last.startswith("extract_") and last[len("extract_") :] in ir.DATE_PARTS:
            return head, None, last[len("extract_") :]
    return name, None, None


def resolve(manifest: ir.SemanticManifest) -> ResolvedManifest:
    return ResolvedManifest(manifest)


__all__ = [
    "LEFT",
    "RIGHT",
    "Element",
    "JoinPath",
    "JoinStep",
    "ResolvedManifest",
    "parse_expr",
    "resolve",
    "split_grain",
]
