"""Specs: the two YAML flavours as pydantic models, and their conversion into the internal model (`ir`).

- Seeknal: documents with `kind: semantic_model` or `kind: metric` (multi-document files allowed), fields as Seeknal
  2.13 reads them (`model: ref('kind.name')`, entities/dimensions/measures, measure `filters`, `joins`, inline
  `metrics`, ratio of measures, derived `inputs` with `offset`, cumulative `grain_to_date`).
- MetricFlow / dbt: documents with `semantic_models:` / `metrics:` lists (or the legacy singular `semantic_model:` /
  `metric:`), `type_params`, `defaults.agg_time_dimension`, `node_relation`, and the time spine configuration
  (`project_configuration.time_spines`, legacy `time_spine_table_configurations`, dbt `models[].time_spine`).

`load_manifest(paths)` reads files and folders of either flavour and returns the manifest plus every problem found,
each with file, object and field.
"""

from __future__ import annotations

import contextlib
import re
import typing as t
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from seeknal_sqlmesh.errors import Problem
from seeknal_sqlmesh.semantic import ir

# libyaml when available: a large manifest loads several times faster
_Loader: t.Type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Spec(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _listify(v):
    if v is None:
        return []
    return [v] if isinstance(v, (str, dict)) else list(v)


# ---------------------------------------------------------------- Seeknal flavour


class Aliased(Spec):
    aliases: t.List[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v):
        return _listify(v)


class SkEntity(Spec):
    name: str
    type: t.Literal["primary", "foreign", "unique", "natural"]
    expr: t.Optional[str] = None
    description: str = ""


class SkDimension(Spec):
    name: str
    type: t.Literal["time", "categorical", "string", "number", "boolean"] = "categorical"
    expr: t.Optional[str] = None
    time_granularity: t.Optional[t.Literal[ir.GRAINS]] = None  # type: ignore[valid-type]
    description: str = ""


class SkMeasure(Aliased):
    name: str
    agg: t.Literal["sum", "count", "count_distinct", "average", "avg", "mean", "min", "max", "sum_boolean", "median"]
    expr: t.Optional[str] = None
    filters: t.List[str] = Field(default_factory=list)
    agg_time_dimension: t.Optional[str] = None

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, v):
        out = []
        for item in _listify(v):
            if isinstance(item, dict):
                if "sql" not in item:
                    raise ValueError("a measure filter is a string or {sql: ...}")
                item = item["sql"]
            out.append(str(item))
        return out


class SkJoin(Spec):
    name: str
    relationship: t.Literal["one_to_one", "one_to_many", "many_to_one"] = "many_to_one"
    sql: str


class SkMetricInput(Spec):
    metric: str
    alias: t.Optional[str] = None
    offset: t.Optional[str] = None
    filter: t.Optional[str] = None


class SkMetric(Aliased):
    kind: t.Optional[str] = None
    name: str
    type: t.Literal["simple", "ratio", "derived", "cumulative"]
    measure: t.Optional[str] = None
    filter: t.Optional[str] = None
    numerator: t.Optional[str] = None
    denominator: t.Optional[str] = None
    expr: t.Optional[str] = None
    inputs: t.List[SkMetricInput] = Field(default_factory=list)
    grain_to_date: t.Optional[t.Literal[ir.GRAINS]] = None  # type: ignore[valid-type]
    window: t.Optional[str] = None  # extension: trailing window like MetricFlow's
    period_agg: t.Literal["first", "last", "average"] = "last"
    fill_nulls_with: t.Optional[float] = None
    join_to_timespine: bool = False


class SkSemanticModel(Spec):
    kind: str
    name: str
    model: str
    description: str = ""
    default_time_dimension: t.Optional[str] = None
    entities: t.List[SkEntity]
    dimensions: t.List[SkDimension] = Field(default_factory=list)
    measures: t.List[SkMeasure] = Field(default_factory=list)
    joins: t.List[SkJoin] = Field(default_factory=list)
    metrics: t.List[SkMetric] = Field(default_factory=list)
    dialect: str = "duckdb"


# ---------------------------------------------------------------- MetricFlow / dbt flavour


class MfNodeRelation(Spec):
    alias: str
    schema_name: t.Optional[str] = None
    database: t.Optional[str] = None
    relation_name: t.Optional[str] = None


class MfEntity(Spec):
    name: str
    type: t.Literal["primary", "unique", "foreign", "natural"]
    expr: t.Optional[t.Union[str, bool, int]] = None
    role: t.Optional[str] = None
    description: str = ""


class MfDimensionTypeParams(Spec):
    time_granularity: t.Optional[str] = None
    validity_params: t.Optional[dict] = None


class MfDimension(Spec):
    name: str
    type: t.Literal["categorical", "time"]
    expr: t.Optional[t.Union[str, bool, int]] = None
    is_partition: bool = False
    type_params: t.Optional[MfDimensionTypeParams] = None
    description: str = ""


class MfAggParams(Spec):
    percentile: t.Optional[float] = None
    use_discrete_percentile: bool = False
    use_approximate_percentile: bool = False


class MfMeasure(Spec):
    name: str
    agg: t.Literal["sum", "min", "max", "count", "count_distinct", "sum_boolean", "average", "median", "percentile"]
    expr: t.Optional[t.Union[str, bool, int]] = None
    agg_params: t.Optional[MfAggParams] = None
    agg_time_dimension: t.Optional[str] = None
    non_additive_dimension: t.Optional[dict] = None
    create_metric: bool = False
    description: str = ""


class MfDefaults(Spec):
    agg_time_dimension: t.Optional[str] = None


class MfSemanticModel(Spec):
    name: str
    model: t.Optional[str] = None  # dbt: ref('table')
    node_relation: t.Optional[MfNodeRelation] = None
    defaults: t.Optional[MfDefaults] = None
    primary_entity: t.Optional[str] = None
    entities: t.List[MfEntity] = Field(default_factory=list)
    dimensions: t.List[MfDimension] = Field(default_factory=list)
    measures: t.List[MfMeasure] = Field(default_factory=list)
    description: t.Optional[str] = ""


class MfMetricInputSpec(Spec):
    name: str
    filter: t.Optional[t.Union[str, t.List[str]]] = None
    alias: t.Optional[str] = None
    offset_window: t.Optional[str] = None
    offset_to_grain: t.Optional[str] = None


class MfMeasureInputSpec(Spec):
    name: str
    filter: t.Optional[t.Union[str, t.List[str]]] = None
    alias: t.Optional[str] = None
    join_to_timespine: bool = False
    fill_nulls_with: t.Optional[float] = None


class MfCumulativeParams(Spec):
    window: t.Optional[str] = None
    grain_to_date: t.Optional[str] = None
    period_agg: t.Literal["first", "last", "average"] = "first"
    metric: t.Optional[t.Union[str, MfMetricInputSpec]] = None


class MfTypeParams(Spec):
    measure: t.Optional[t.Union[str, MfMeasureInputSpec]] = None
    numerator: t.Optional[t.Union[str, MfMetricInputSpec]] = None
    denominator: t.Optional[t.Union[str, MfMetricInputSpec]] = None
    expr: t.Optional[str] = None
    metrics: t.List[t.Union[str, MfMetricInputSpec]] = Field(default_factory=list)
    window: t.Optional[str] = None
    grain_to_date: t.Optional[str] = None
    cumulative_type_params: t.Optional[MfCumulativeParams] = None
    conversion_type_params: t.Optional[dict] = None
    join_to_timespine: bool = False
    fill_nulls_with: t.Optional[float] = None


class MfMetric(Spec):
    name: str
    type: t.Literal["simple", "ratio", "derived", "cumulative", "conversion"]
    type_params: MfTypeParams = Field(default_factory=MfTypeParams)
    filter: t.Optional[t.Union[str, t.List[str]]] = None
    time_granularity: t.Optional[str] = None
    description: t.Optional[str] = ""
    label: t.Optional[str] = None


class MfPrimaryColumn(Spec):
    name: str
    time_granularity: str = "day"


class MfTimeSpineConfig(Spec):
    node_relation: MfNodeRelation
    primary_column: MfPrimaryColumn


class MfLegacySpine(Spec):
    location: str
    column_name: str
    grain: str = "day"


class MfProjectConfiguration(Spec):
    time_spines: t.List[MfTimeSpineConfig] = Field(default_factory=list)
    time_spine_table_configurations: t.List[MfLegacySpine] = Field(default_factory=list)


# ---------------------------------------------------------------- conversion helpers


_OFFSET_RE = re.compile(r"^\s*(-?\d+)\s+([a-z_]+?)s?\s*$", re.IGNORECASE)


def parse_window(text: str) -> ir.Offset:
    """'1 month', '7 days', '2 weeks' -> Offset(count, unit)."""
    m = _OFFSET_RE.match(str(text))
    if not m or m.group(2).lower() not in ir.GRAINS:
        raise ValueError(f"'{text}' is not '<number> <{'|'.join(ir.GRAINS)}>'")
    return ir.Offset(count=int(m.group(1)), unit=m.group(2).lower())


def _grain(value: t.Optional[str], what: str) -> t.Optional[str]:
    if value is None:
        return None
    g = str(value).lower()
    if g not in ir.GRAINS:
        raise ValueError(f"{what} '{value}' is not one of {', '.join(ir.GRAINS)}")
    return g


def _filters(value) -> t.List[str]:
    return [str(v) for v in _listify(value)]


def _expr(value, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


_REF_RE = re.compile(r"""^\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*$""")


def parse_relation(text: str) -> ir.Relation:
    """`ref('kind.name')` / dbt `ref('name')` -> a ref; anything else is a table name."""
    m = _REF_RE.match(text)
    if m:
        return ir.Relation(m.group(2) or m.group(1), is_ref=True)
    return ir.Relation(text.strip(), is_ref=False)


def _node_relation(rel: MfNodeRelation) -> ir.Relation:
    if rel.relation_name:
        return ir.Relation(rel.relation_name.replace('"', ""), is_ref=False)
    parts = [p for p in (rel.database, rel.schema_name, rel.alias) if p]
    return ir.Relation(".".join(parts), is_ref=False)


# ---------------------------------------------------------------- Seeknal -> ir


def _sk_metric(spec: SkMetric, origin: ir.Origin) -> ir.Metric:
    m = ir.Metric(
        name=spec.name,
        type=spec.type,
        origin=origin,
        description=spec.description,
        aliases=list(spec.aliases),
        fill_nulls_with=spec.fill_nulls_with,
        join_to_timespine=spec.join_to_timespine,
        period_agg=spec.period_agg,
    )
    if spec.type in ("simple", "cumulative"):
        if not spec.measure:
            raise _FieldError("measure", f"a {spec.type} metric needs `measure`")
        m.measure = ir.MetricInput(
            spec.measure,
            is_measure=True,
            join_to_timespine=spec.join_to_timespine,
            fill_nulls_with=spec.fill_nulls_with,
        )
        m.filters = _filters(spec.filter)
        if spec.type == "cumulative":
            m.grain_to_date = spec.grain_to_date
            if spec.window:
                m.window = _field_call("window", parse_window, spec.window)
    elif spec.type == "ratio":
        for part in ("numerator", "denominator"):
            if not getattr(spec, part):
                raise _FieldError(part, f"a ratio metric needs `{part}` (a measure name)")
        # Seeknal: ratio operands are measure names
        m.numerator = ir.MetricInput(str(spec.numerator), is_measure=True)
        m.denominator = ir.MetricInput(str(spec.denominator), is_measure=True)
        m.filters = _filters(spec.filter)
    else:  # derived
        if not spec.expr:
            raise _FieldError("expr", "a derived metric needs `expr`")
        m.expr = spec.expr
        for i, inp in enumerate(spec.inputs):
            offset = _field_call(f"inputs[{i}].offset", parse_window, inp.offset) if inp.offset else None
            m.inputs.append(ir.MetricInput(inp.metric, alias=inp.alias, filters=_filters(inp.filter), offset=offset))
        m.filters = _filters(spec.filter)
    return m


def _sk_model(spec: SkSemanticModel, origin: ir.Origin) -> t.Tuple[ir.SemanticModel, t.List[ir.Metric]]:
    dims = []
    for d in spec.dimensions:
        kind = "time" if d.type == "time" else "categorical"
        dims.append(ir.Dimension(d.name, kind, _expr(d.expr, d.name), d.time_granularity or "day", d.description))
    measures = [
        ir.Measure(
            name=x.name,
            agg={"avg": "average", "mean": "average"}.get(x.agg, x.agg),
            expr=_expr(x.expr, x.name),
            model=spec.name,
            filters=list(x.filters),
            agg_time_dimension=x.agg_time_dimension,
            aliases=list(x.aliases),
            description=x.description,
            create_metric=True,
            origin=ir.Origin(origin.file, origin.doc, f"measures[{i}]"),
        )
        for i, x in enumerate(spec.measures)
    ]
    model = ir.SemanticModel(
        name=spec.name,
        relation=parse_relation(spec.model),
        entities=[ir.Entity(e.name, e.type, _expr(e.expr, e.name)) for e in spec.entities],
        dimensions=dims,
        measures=measures,
        agg_time_dimension=spec.default_time_dimension,
        joins=[
            ir.ExplicitJoin(j.name, j.relationship, j.sql, ir.Origin(origin.file, origin.doc, f"joins[{i}]"))
            for i, j in enumerate(spec.joins)
        ],
        dialect=spec.dialect,
        description=spec.description,
        origin=origin,
    )
    metrics = []
    for i, m in enumerate(spec.metrics):
        try:
            metrics.append(_sk_metric(m, ir.Origin(origin.file, origin.doc, f"metrics[{i}]")))
        except _FieldError as e:
            raise _FieldError(f"metrics[{i}].{e.field}", e.message) from None
    return model, metrics


# ---------------------------------------------------------------- MetricFlow -> ir


def _mf_input(
    value: t.Union[str, MfMetricInputSpec, MfMeasureInputSpec], where: str, is_measure=False
) -> ir.MetricInput:
    if isinstance(value, str):
        return ir.MetricInput(value, is_measure=is_measure)
    offset = None
    if isinstance(value, MfMetricInputSpec):
        if value.offset_window and value.offset_to_grain:
            raise _FieldError(where, "use either offset_window or offset_to_grain")
        if value.offset_window:
            offset = _field_call(f"{where}.offset_window", parse_window, value.offset_window)
        elif value.offset_to_grain:
            offset = ir.Offset(to_grain=_field_call(f"{where}.offset_to_grain", _grain, value.offset_to_grain, "grain"))
    out = ir.MetricInput(
        value.name, alias=value.alias, filters=_filters(value.filter), offset=offset, is_measure=is_measure
    )
    if isinstance(value, MfMeasureInputSpec):
        out.join_to_timespine = value.join_to_timespine
        out.fill_nulls_with = value.fill_nulls_with
    return out


def _mf_metric(spec: MfMetric, origin: ir.Origin) -> ir.Metric:
    tp = spec.type_params
    if spec.type == "conversion":
        raise _FieldError("type", "conversion metrics are not supported yet")
    m = ir.Metric(
        name=spec.name,
        type=spec.type,
        origin=origin,
        filters=_filters(spec.filter),
        description=spec.description or "",
        time_granularity=_field_call("time_granularity", _grain, spec.time_granularity, "time_granularity"),
    )
    if spec.type in ("simple", "cumulative"):
        source = tp.measure
        if (
            spec.type == "cumulative"
            and source is None
            and tp.cumulative_type_params
            and tp.cumulative_type_params.metric
        ):
            raise _FieldError(
                "type_params.cumulative_type_params.metric",
                "cumulative metrics over metrics are not supported; use `measure`",
            )
        if source is None:
            raise _FieldError("type_params.measure", f"a {spec.type} metric needs type_params.measure")
        m.measure = _mf_input(source, "type_params.measure", is_measure=True)
        m.join_to_timespine = m.measure.join_to_timespine or tp.join_to_timespine
        m.fill_nulls_with = m.measure.fill_nulls_with if m.measure.fill_nulls_with is not None else tp.fill_nulls_with
        m.filters += m.measure.filters
        m.measure.filters = []
        if spec.type == "cumulative":
            ctp = tp.cumulative_type_params or MfCumulativeParams()
            window = ctp.window or tp.window
            gtd = ctp.grain_to_date or tp.grain_to_date
            if window and gtd:
                raise _FieldError("type_params", "use either window or grain_to_date")
            m.window = _field_call("type_params.window", parse_window, window) if window else None
            m.grain_to_date = _field_call("type_params.grain_to_date", _grain, gtd, "grain_to_date")
            m.period_agg = ctp.period_agg
    elif spec.type == "ratio":
        for part in ("numerator", "denominator"):
            value = getattr(tp, part)
            if value is None:
                raise _FieldError(f"type_params.{part}", f"a ratio metric needs type_params.{part}")
            setattr(m, part, _mf_input(value, f"type_params.{part}"))
    else:
        if not tp.expr:
            raise _FieldError("type_params.expr", "a derived metric needs type_params.expr")
        m.expr = tp.expr
        m.inputs = [_mf_input(v, f"type_params.metrics[{i}]") for i, v in enumerate(tp.metrics)]
    return m


def _mf_model(spec: MfSemanticModel, origin: ir.Origin) -> ir.SemanticModel:
    if spec.node_relation is not None:
        relation = _node_relation(spec.node_relation)
    elif spec.model:
        relation = parse_relation(spec.model)
    else:
        raise _FieldError("node_relation", "a semantic model needs `model: ref('...')` or `node_relation`")
    dims = []
    for i, d in enumerate(spec.dimensions):
        grain = "day"
        if d.type == "time":
            if d.type_params is None or not d.type_params.time_granularity:
                raise _FieldError(
                    f"dimensions[{i}].type_params.time_granularity", "a time dimension needs a time_granularity"
                )
            grain = _field_call(
                f"dimensions[{i}].type_params.time_granularity",
                _grain,
                d.type_params.time_granularity,
                "time_granularity",
            )
            if d.type_params.validity_params:
                raise _FieldError(
                    f"dimensions[{i}].type_params.validity_params", "SCD II validity dimensions are not supported yet"
                )
        dims.append(ir.Dimension(d.name, d.type, _expr(d.expr, d.name), grain, d.description))
    measures = []
    for i, x in enumerate(spec.measures):
        if x.non_additive_dimension:
            raise _FieldError(f"measures[{i}].non_additive_dimension", "semi-additive measures are not supported yet")
        pct = x.agg_params.percentile if x.agg_params else None
        if x.agg == "percentile" and pct is None:
            raise _FieldError(
                f"measures[{i}].agg_params.percentile", "a percentile measure needs agg_params.percentile"
            )
        measures.append(
            ir.Measure(
                name=x.name,
                agg=x.agg,
                expr=_expr(x.expr, x.name),
                model=spec.name,
                agg_time_dimension=x.agg_time_dimension,
                percentile=pct,
                description=x.description,
                create_metric=x.create_metric,
                origin=ir.Origin(origin.file, origin.doc, f"{origin.path}.measures[{i}]"),
            )
        )
    return ir.SemanticModel(
        name=spec.name,
        relation=relation,
        entities=[ir.Entity(e.name, e.type, _expr(e.expr, e.name)) for e in spec.entities],
        dimensions=dims,
        measures=measures,
        agg_time_dimension=spec.defaults.agg_time_dimension if spec.defaults else None,
        primary_entity=spec.primary_entity,
        description=spec.description or "",
        origin=origin,
    )


# ---------------------------------------------------------------- reading files


class _FieldError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _field_call(field: str, fn, *args):
    try:
        return fn(*args)
    except ValueError as e:
        raise _FieldError(field, str(e)) from None


def _validation_problems(err: ValidationError, file: str, obj: str, prefix: str) -> t.List[Problem]:
    out = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        loc = re.sub(r"\.(\d+)", r"[\1]", loc)
        field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
        msg = e["msg"]
        if e["type"] == "missing":
            msg = "required field is missing"
        out.append(Problem(file, obj, field, msg))
    return out


def _yaml_files(paths: t.Iterable[t.Union[str, Path]]) -> t.List[Path]:
    files: t.List[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(x for x in p.rglob("*") if x.suffix in (".yml", ".yaml") and x.is_file())
        else:
            files.append(p)
    return files


class _Collector:
    def __init__(self):
        self.manifest = ir.SemanticManifest()
        self.problems: t.List[Problem] = []

    def run(self, file: str, obj: str, prefix: str, fn, *args):
        try:
            return fn(*args)
        except ValidationError as e:
            self.problems += _validation_problems(e, file, obj, prefix)
        except _FieldError as e:
            field = f"{prefix}.{e.field}" if prefix else e.field
            self.problems.append(Problem(file, obj, field, e.message))
        return None

    def seeknal(self, doc: dict, file: str, index: int) -> None:
        kind = doc.get("kind")
        name = str(doc.get("name", f"document {index + 1}"))
        origin = ir.Origin(file, index, "")
        if kind == "semantic_model":
            spec = self.run(file, name, "", SkSemanticModel.model_validate, doc)
            if spec is not None:
                result = self.run(file, name, "", _sk_model, spec, origin)
                if result:
                    self.manifest.models.append(result[0])
                    self.manifest.metrics += result[1]
        elif kind == "metric":
            spec = self.run(file, name, "", SkMetric.model_validate, doc)
            if spec is not None:
                metric = self.run(file, name, "", _sk_metric, spec, origin)
                if metric:
                    self.manifest.metrics.append(metric)
        # other kinds (a whole Seeknal project folder): not semantic, skipped

    def metricflow(self, doc: dict, file: str, index: int) -> None:
        models = _listify(doc.get("semantic_models")) + _listify(doc.get("semantic_model"))
        for i, raw in enumerate(models):
            path = f"semantic_models[{i}]"
            name = raw.get("name", path) if isinstance(raw, dict) else path
            spec = self.run(file, name, path, MfSemanticModel.model_validate, raw)
            if spec is not None:
                model = self.run(file, name, path, _mf_model, spec, ir.Origin(file, index, path))
                if model:
                    self.manifest.models.append(model)
        for i, raw in enumerate(_listify(doc.get("metrics")) + _listify(doc.get("metric"))):
            path = f"metrics[{i}]"
            name = raw.get("name", path) if isinstance(raw, dict) else path
            spec = self.run(file, name, path, MfMetric.model_validate, raw)
            if spec is not None:
                metric = self.run(file, name, path, _mf_metric, spec, ir.Origin(file, index, path))
                if metric:
                    self.manifest.metrics.append(metric)
        if "project_configuration" in doc:
            conf = self.run(
                file,
                "project_configuration",
                "project_configuration",
                MfProjectConfiguration.model_validate,
                doc["project_configuration"] or {},
            )
            if conf is not None:
                for spine in conf.time_spines:
                    if spine.primary_column.time_granularity == "day":
                        self.manifest.time_spine = ir.TimeSpine(
                            _node_relation(spine.node_relation), spine.primary_column.name
                        )
                for legacy in conf.time_spine_table_configurations:
                    if legacy.grain.lower() == "day" and self.manifest.time_spine is None:
                        self.manifest.time_spine = ir.TimeSpine(ir.Relation(legacy.location, False), legacy.column_name)
        for raw in _listify(doc.get("models")):  # dbt >= 1.9: models[].time_spine
            if isinstance(raw, dict) and isinstance(raw.get("time_spine"), dict):
                column = raw["time_spine"].get("standard_granularity_column")
                if column:
                    self.manifest.time_spine = ir.TimeSpine(ir.Relation(raw["name"], True), column)


MF_KEYS = ("semantic_models", "semantic_model", "metrics", "metric", "project_configuration")


def load_manifest(
    paths: t.Iterable[t.Union[str, Path]], root: t.Optional[Path] = None
) -> t.Tuple[ir.SemanticManifest, t.List[Problem]]:
    """Read every YAML file under `paths` (files or folders, either flavour, multi-document files allowed)."""
    col = _Collector()
    for path in _yaml_files(paths):
        file = str(path)
        if root is not None:
            with contextlib.suppress(ValueError):  # outside the root: keep the path as given
                file = str(path.resolve().relative_to(root.resolve()))
        if not path.exists():
            col.problems.append(Problem(file, "", "", "no such file or folder"))
            continue
        try:
            docs = list(yaml.load_all(path.read_text(), Loader=_Loader))
        except yaml.YAMLError as e:
            col.problems.append(Problem(file, "", "", f"not valid YAML: {e}".replace("\n", " ")))
            continue
        col.manifest.files.append(file)
        for index, doc in enumerate(docs):
            if not isinstance(doc, dict):
                continue
            if "kind" in doc:
                col.seeknal(doc, file, index)
            elif any(k in doc for k in MF_KEYS) or "models" in doc:
                col.metricflow(doc, file, index)
    return col.manifest, col.problems
