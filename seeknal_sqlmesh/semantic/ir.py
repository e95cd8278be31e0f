"""The one internal model both YAML flavours are read into (Seeknal `kind: semantic_model/metric` and MetricFlow
`semantic_models:/metrics:`). Plain dataclasses; SQL snippets stay text here and are parsed by `resolve`.

Measure-less in spirit: a simple metric points at a measure (aggregation + expression + semantic model); Seeknal's
implicit metrics (one per measure) are added by `resolve`.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
GRAIN_RANK = {g: i for i, g in enumerate(GRAINS)}
DATE_PARTS = ("year", "quarter", "month", "week", "day", "dow", "doy", "hour")
AGGS = ("sum", "count", "count_distinct", "average", "min", "max", "sum_boolean", "median", "percentile")
ADDITIVE_AGGS = {"sum": "sum", "count": "sum", "min": "min", "max": "max", "sum_boolean": "sum"}
ENTITY_TYPES = ("primary", "unique", "foreign", "natural")
METRIC_TYPES = ("simple", "ratio", "derived", "cumulative")
PERIOD_AGGS = ("first", "last", "average")


@dataclass(frozen=True)
class Origin:
    """Where a definition came from: file, document number in a multi-document file, and the object's path."""

    file: str
    doc: int = 0
    path: str = ""

    def field(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


@dataclass(frozen=True)
class Relation:
    """What a semantic model reads: `ref('kind.name')` (resolved by the connection) or a plain table name."""

    name: str
    is_ref: bool = True

    def __str__(self) -> str:
        return f"ref('{self.name}')" if self.is_ref else self.name


@dataclass(eq=False)
class Entity:
    name: str
    type: str
    expr: str


@dataclass(eq=False)
class Dimension:
    name: str
    type: str  # categorical | time
    expr: str
    grain: str = "day"  # smallest grain of a time dimension
    description: str = ""


@dataclass(eq=False)
class Measure:
    name: str
    agg: str
    expr: str
    model: str
    filters: t.List[str] = field(default_factory=list)  # Seeknal measure filters: raw SQL over the model's columns
    agg_time_dimension: t.Optional[str] = None
    percentile: t.Optional[float] = None
    aliases: t.List[str] = field(default_factory=list)
    description: str = ""
    create_metric: bool = False
    origin: Origin = Origin("")


@dataclass(eq=False)
class ExplicitJoin:
    """Seeknal `joins:` entry: `{CUBE}.a = {other}.b`; many_to_one / one_to_one only (one_to_many would fan out)."""

    target: str
    relationship: str
    sql: str
    origin: Origin = Origin("")


@dataclass(eq=False)
class SemanticModel:
    name: str
    relation: Relation
    entities: t.List[Entity]
    dimensions: t.List[Dimension]
    measures: t.List[Measure]
    agg_time_dimension: t.Optional[str] = None
    primary_entity: t.Optional[str] = None
    joins: t.List[ExplicitJoin] = field(default_factory=list)
    dialect: str = "duckdb"
    description: str = ""
    origin: Origin = Origin("")

    def entity(self, name: str) -> t.Optional[Entity]:
        return next((e for e in self.entities if e.name == name), None)

    def dimension(self, name: str) -> t.Optional[Dimension]:
        return next((d for d in self.dimensions if d.name == name), None)

    @property
    def key_entity(self) -> t.Optional[str]:
        """The entity local dimensions are addressed by (`<entity>__<dimension>`)."""
        if self.primary_entity:
            return self.primary_entity
        for kind in ("primary", "unique"):
            for e in self.entities:
                if e.type == kind:
                    return e.name
        return None


@dataclass(frozen=True)
class Offset:
    """`offset_window: '<n> <grain>'` (value n periods earlier) or `offset_to_grain: <grain>` (start of the period)."""

    count: int = 0
    unit: t.Optional[str] = None
    to_grain: t.Optional[str] = None

    def __str__(self) -> str:
        return f"to {self.to_grain}" if self.to_grain else f"{self.count} {self.unit}"


@dataclass(eq=False)
class MetricInput:
    """A reference to a metric (or, for Seeknal ratios, a measure) with its own filter, alias and offset."""

    name: str
    alias: t.Optional[str] = None
    filters: t.List[str] = field(default_factory=list)
    offset: t.Optional[Offset] = None
    is_measure: bool = False
    join_to_timespine: bool = False
    fill_nulls_with: t.Optional[float] = None


@dataclass(eq=False)
class Metric:
    name: str
    type: str
    origin: Origin = Origin("")
    measure: t.Optional[MetricInput] = None  # simple and cumulative
    numerator: t.Optional[MetricInput] = None
    denominator: t.Optional[MetricInput] = None
    expr: t.Optional[str] = None  # derived
    inputs: t.List[MetricInput] = field(default_factory=list)
    window: t.Optional[Offset] = None  # cumulative: trailing window
    grain_to_date: t.Optional[str] = None
    period_agg: str = "first"
    filters: t.List[str] = field(default_factory=list)
    fill_nulls_with: t.Optional[float] = None
    join_to_timespine: bool = False
    time_granularity: t.Optional[str] = None
    aliases: t.List[str] = field(default_factory=list)
    description: str = ""
    implicit: bool = False  # Seeknal: a measure queried as a metric


@dataclass(frozen=True)
class TimeSpine:
    """A configured daily time spine table (MetricFlow `time_spines` / `time_spine_table_configurations`)."""

    relation: Relation
    column: str
    grain: str = "day"


@dataclass
class SemanticManifest:
    """Everything read from the YAML files, before validation."""

    models: t.List[SemanticModel] = field(default_factory=list)
    metrics: t.List[Metric] = field(default_factory=list)
    time_spine: t.Optional[TimeSpine] = None
    files: t.List[str] = field(default_factory=list)
