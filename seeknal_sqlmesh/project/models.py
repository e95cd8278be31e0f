"""Typed models of Seeknal 2.13 nodes, one class per kind.

Field names and defaults follow what Seeknal's executors really read (see shared/reference/seeknal.md),
not what its docs say. Keys Seeknal accepts but nothing translates (`create_table`, a feature group's `engine`,
documentation-only keys) are declared too, typed `t.Any`, so a valid project reads without warnings.

Unknown keys are kept (`extra="allow"`) because Seeknal accepts them too, but they are not silent: the loader
warns about each one (`unknown_keys`), with the nearest known key, so a misspelled `lookbak` does not quietly
turn into "no lookback". Never read a key through `model_extra`: declare it.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

KINDS = (
    "source",
    "transform",
    "feature_group",
    "model",
    "aggregation",
    "second_order_aggregation",
    "profile",
    "rule",
    "exposure",
    "semantic_model",
    "metric",
)


class Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, arbitrary_types_allowed=True)

    # Keys Seeknal documents but ignores, with what to write instead: warned about with this advice.
    IGNORED_KEYS: t.ClassVar[t.Dict[str, str]] = {}
    # Keys read before validation, under another field's name (the singular `materialization:`).
    RENAMED_KEYS: t.ClassVar[t.Tuple[str, ...]] = ()

    @classmethod
    def known_keys(cls) -> t.List[str]:
        """The YAML keys this model reads (aliases where a field has one; never the loader's own fields)."""
        keys = [f.alias or name for name, f in cls.model_fields.items() if not f.exclude]
        return [*keys, *cls.RENAMED_KEYS]


KeyPath = t.Tuple[t.Union[str, int], ...]


def unknown_keys(model: BaseModel, at: KeyPath = ()) -> t.Iterator[t.Tuple[KeyPath, t.Type[Lenient]]]:
    """(path of the key, model class that does not know it) for every key of `model` and of the models nested in
    it that no field reads. Paths are as the data was validated: `("materializations", 0, "lookbak")`."""
    if not isinstance(model, Lenient):
        return
    for key in model.model_extra or {}:
        yield (*at, key), type(model)
    for name, info in type(model).model_fields.items():
        if info.exclude:
            continue
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from unknown_keys(value, (*at, name))
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from unknown_keys(item, (*at, name, i))
        elif isinstance(value, dict):
            for key, item in value.items():
                yield from unknown_keys(item, (*at, name, str(key)))


def _days(value: t.Any) -> t.Any:
    """A lookback in days: Seeknal reads an integer; its docs show "7d", which we accept too."""
    if isinstance(value, str) and value.strip().lower().endswith("d") and value.strip()[:-1].isdigit():
        return int(value.strip()[:-1])
    return value


class ColumnSpec(Lenient):
    description: str = ""
    dtype: t.Optional[str] = None


def _named(item: t.Any) -> t.Tuple[str, t.Any]:
    """An entry of a list-form `columns:` / `features:` -> (name, its spec without the name)."""
    if isinstance(item, dict) and "name" in item:
        return str(item["name"]), {k: v for k, v in item.items() if k != "name"}
    return str(item), {}


class Materialization(Lenient):
    """One entry of `materialization:` / `materializations:` (Iceberg or PostgreSQL target)."""

    type: str = "iceberg"
    enabled: bool = True
    table: t.Optional[str] = None
    mode: t.Optional[str] = None
    connection: t.Optional[str] = None
    time_column: t.Optional[str] = None
    lookback: t.Optional[int] = None
    unique_keys: t.List[str] = Field(default_factory=list)
    partition_by: t.List[str] = Field(default_factory=list)
    # Read by Seeknal's Iceberg / PostgreSQL writers; SQLMesh decides these itself, so they are not translated.
    create_table: t.Any = None
    cascade: t.Any = None
    when_matched_update_if: t.Any = None
    compare_columns: t.Any = None
    when_not_matched: t.Any = None
    max_batch_bytes: t.Any = None

    @field_validator("unique_keys", "partition_by", mode="before")
    @classmethod
    def _listify(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @field_validator("lookback", mode="before")
    @classmethod
    def _lookback_days(cls, v: t.Any) -> t.Any:
        return _days(v)


class Freshness(Lenient):
    time_column: t.Optional[str] = None
    warn_after: t.Any = None  # documented by Seeknal, not read by its executor
    error_after: t.Any = None


class Schedule(Lenient):
    cron: str
    timezone: t.Optional[str] = None


class Node(Lenient):
    """Fields shared by every kind."""

    RENAMED_KEYS = ("materialization",)  # one target, read as `materializations: [...]`

    kind: str
    name: str
    description: str = ""
    owner: t.Optional[str] = None
    owners: t.Any = None  # Seeknal forwards it to its catalog (Atlas); nothing to translate
    tags: t.List[str] = Field(default_factory=list)
    inputs: t.List[str] = Field(default_factory=list)
    columns: t.Dict[str, ColumnSpec] = Field(default_factory=dict)
    params: t.Dict[str, t.Any] = Field(default_factory=dict)
    audits: t.List[t.Dict[str, t.Any]] = Field(default_factory=list)
    materializations: t.List[Materialization] = Field(default_factory=list)
    schedule: t.Optional[Schedule] = None
    dialect: t.Optional[str] = None
    freshness: t.Optional[Freshness] = None

    # Where the node came from; set by the loader, never read from YAML.
    path: Path = Field(default=Path("."), exclude=True)
    python: bool = Field(default=False, exclude=True)

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.name}"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v or not str(v).replace("_", "").replace("-", "").isalnum():
            raise ValueError("must be letters, digits, '_' or '-'")
        return str(v)

    @field_validator("owner", mode="before")
    @classmethod
    def _owner(cls, v):
        if isinstance(v, list):
            return ", ".join(str(x) for x in v)
        return v

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else [str(x) for x in v]

    @field_validator("inputs", mode="before")
    @classmethod
    def _inputs(cls, v):
        # `inputs: [{ref: kind.name}]`; plain strings are tolerated by Seeknal's executors.
        if v is None:
            return []
        if not isinstance(v, list):
            raise ValueError("must be a list of {ref: <kind>.<name>}")
        refs = []
        for item in v:
            if isinstance(item, dict) and "ref" in item:
                refs.append(str(item["ref"]))
            elif isinstance(item, str):
                refs.append(item[4:] if item.startswith("ref:") else item)
            else:
                raise ValueError(f"entry {item!r} is not {{ref: <kind>.<name>}}")
        return refs

    @field_validator("columns", mode="before")
    @classmethod
    def _columns(cls, v):
        if v is None:
            return {}
        if isinstance(v, list):  # `columns: [{name, description}]`
            return dict(_named(c) for c in v if isinstance(c, dict) and "name" in c)
        return {k: ({"description": d} if isinstance(d, str) or d is None else d) for k, d in v.items()}

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, v):
        return {"cron": v} if isinstance(v, str) else v

    @model_validator(mode="before")
    @classmethod
    def _normalize_materialization(cls, data):
        # `materialization` (one dict) or `materializations` (a list); both is an error in Seeknal.
        # (A feature group's `materialization` is its own field: event time, offline and online stores.)
        if not isinstance(data, dict):
            return data
        if data.get("kind") != "feature_group" and "materialization" in data:
            data = dict(data)
            single = data.pop("materialization")
            if single is not None:
                if data.get("materializations"):
                    raise ValueError("use either 'materialization' or 'materializations', not both")
                data["materializations"] = [single]
        if data.get("materializations") is None:
            data = {**data, "materializations": []}
        return data

    def active_materializations(self) -> t.List[Materialization]:
        return [m for m in self.materializations if m.enabled]


class SourceNode(Node):
    IGNORED_KEYS = {"connection": "Seeknal 2.13 ignores a top-level connection too: write it as params.connection"}

    source: str
    table: t.Optional[str] = None
    schema_: t.Any = Field(default=None, alias="schema")  # `[{name, data_type}]`: documentation only in Seeknal

    @field_validator("source")
    @classmethod
    def _source_type(cls, v: str) -> str:
        v = v.lower()
        return "postgresql" if v == "postgres" else v

    @model_validator(mode="after")
    def _table_required(self):
        if not self.table and not (self.source == "postgresql" and self.params.get("query")):
            raise ValueError("'table' is required (a file path, schema.table, or catalog.namespace.table)")
        return self


class TransformNode(Node):
    transform: str


class Entity(Lenient):
    name: str
    join_keys: t.List[str]
    description: str = ""

    @field_validator("join_keys")
    @classmethod
    def _non_empty(cls, v):
        if not v:
            raise ValueError("join_keys must not be empty")
        return v


class FeatureGroupMaterialization(Lenient):
    event_time_col: t.Optional[str] = None
    offline: t.Any = True
    online: t.Any = False
    # An extension (Seeknal ignores it): recompute the last N daily intervals on every run (translators/feature_group.py)
    lookback: t.Optional[int] = None

    @field_validator("lookback", mode="before")
    @classmethod
    def _lookback_days(cls, v: t.Any) -> t.Any:
        return _days(v)


class FeatureGroupNode(Node):
    entity: Entity
    transform: t.Optional[str] = None
    features: t.Dict[str, ColumnSpec] = Field(default_factory=dict)
    materialization: FeatureGroupMaterialization = Field(default_factory=FeatureGroupMaterialization)
    # Passed to Seeknal's offline-store write (engine duckdb|spark, write window and mode): the translated model is
    # a table SQLMesh builds, so none of them is translated.
    engine: t.Any = None
    feature_start_time: t.Any = None
    feature_end_time: t.Any = None
    mode: t.Any = None
    tests: t.Any = None  # documented, never run by Seeknal

    @field_validator("entity", mode="before")
    @classmethod
    def _entity(cls, v):
        if isinstance(v, str):
            return {"name": v, "join_keys": [f"{v}_id"]}
        return v

    @field_validator("features", mode="before")
    @classmethod
    def _features(cls, v):
        if v is None:
            return {}
        if isinstance(v, list):  # `features: [name, {name, description, dtype}]`
            return dict(_named(f) for f in v)
        return {k: ({"description": d} if isinstance(d, str) or d is None else d) for k, d in v.items()}

    @property
    def event_time_col(self) -> str:
        return self.materialization.event_time_col or "event_time"

    @property
    def online_ttl(self) -> t.Optional[str]:
        online = self.materialization.online
        return online.get("ttl") if isinstance(online, dict) else None


class AggregationFeature(Lenient):
    IGNORED_KEYS = dict.fromkeys(
        ("window", "functions"),
        "Seeknal's documented `window` + `functions` form is ignored by its executor: "
        "write rolling: [{window: [7], aggs: [sum]}]",
    )

    name: str
    column: t.Optional[str] = None
    basic: t.List[str] = Field(default_factory=list)
    rolling: t.List[t.Dict[str, t.Any]] = Field(default_factory=list)
    ratio: t.List[t.Dict[str, t.Any]] = Field(default_factory=list)
    since: t.List[t.Dict[str, t.Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_one(self):
        if not (self.basic or self.rolling or self.ratio or self.since):
            raise ValueError(f"feature '{self.name}' needs at least one of basic, rolling, ratio, since")
        return self


class AggregationNode(Node):
    id_col: str
    feature_date_col: str
    application_date_col: str
    features: t.List[AggregationFeature] = Field(min_length=1)
    group_by: t.List[str] = Field(default_factory=list)
    source: t.Optional[str] = None


class SecondOrderFeature(Lenient):
    source_feature: t.Optional[str] = None
    basic: t.List[str] = Field(default_factory=list)
    window: t.Optional[t.List[int]] = None
    ratio: t.Optional[t.Dict[str, t.Any]] = None
    since: t.Optional[t.Dict[str, t.Any]] = None
    percentile: t.Any = None  # pass Seeknal's validation, ignored by its engine (the translator warns)
    delta: t.Any = None


class SecondOrderAggregationNode(Node):
    id_col: str
    feature_date_col: str
    application_date_col: str
    source: str
    features: t.Dict[str, SecondOrderFeature] = Field(min_length=1)

    @field_validator("features", mode="before")
    @classmethod
    def _features(cls, v):
        return {k: (spec or {}) for k, spec in v.items()} if isinstance(v, dict) else v


class ProfileSpec(Lenient):
    IGNORED_KEYS = {"max_top_values": "Seeknal reads it from params: write it as profile.params.max_top_values"}

    columns: t.List[str] = Field(default_factory=list)
    params: t.Dict[str, t.Any] = Field(default_factory=dict)


class ProfileNode(Node):
    profile: ProfileSpec = Field(default_factory=ProfileSpec)


class RuleCheck(Lenient):
    type: str
    column: t.Optional[str] = None
    columns: t.List[str] = Field(default_factory=list)
    params: t.Dict[str, t.Any] = Field(default_factory=dict)
    sql: t.Optional[str] = None
    checks: t.List[t.Dict[str, t.Any]] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _listify(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v


class RuleNode(Node):
    rule: t.List[RuleCheck]

    @field_validator("rule", mode="before")
    @classmethod
    def _rule_list(cls, v):
        if isinstance(v, dict):
            return [v]
        if isinstance(v, str):
            raise ValueError("must be a check with a 'type' (null, range, uniqueness, freshness, ...), not a string")
        return v

    @property
    def severity(self) -> str:
        return str(self.params.get("severity", "error")).lower()


class ExposureNode(Node):
    IGNORED_KEYS = {
        "path": "Seeknal 2.13 fails on a top-level path: write it as params.path",
        "format": "Seeknal 2.13 fails on a top-level format: write it as params.format",
    }

    type: str
    depends_on: t.List[str] = Field(default_factory=list)
    url: t.Optional[str] = None

    @field_validator("depends_on", mode="before")
    @classmethod
    def _depends(cls, v):
        return Node._inputs(v)

    @property
    def upstream(self) -> t.List[str]:
        return self.inputs or self.depends_on


class SemanticNode(Node):
    """semantic_model and metric: metadata for the semantic layer, kept verbatim (`raw`).

    The semantic layer (a plugin) reads them; the subclasses only declare the keys Seeknal 2.13 knows for each kind,
    so that they are not reported as unknown.
    """

    model: t.Optional[str] = None
    raw: t.Dict[str, t.Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _metric_inputs(cls, data):
        # a derived metric's `inputs: [{metric, alias, offset}]` names metrics, not upstream nodes
        inputs = data.get("inputs") if isinstance(data, dict) else None
        if isinstance(inputs, list) and any(isinstance(i, dict) and "ref" not in i for i in inputs):
            data = {k: v for k, v in data.items() if k != "inputs"}
        return data


class SemanticModelNode(SemanticNode):
    default_time_dimension: t.Any = None
    entities: t.Any = None
    dimensions: t.Any = None
    measures: t.Any = None
    joins: t.Any = None
    metrics: t.Any = None


class MetricNode(SemanticNode):
    type: t.Any = None
    measure: t.Any = None
    filter: t.Any = None
    numerator: t.Any = None
    denominator: t.Any = None
    expr: t.Any = None
    grain_to_date: t.Any = None
    aliases: t.Any = None


class MLModelNode(Node):
    output_columns: t.List[str] = Field(default_factory=list)
    training: t.Dict[str, t.Any] = Field(default_factory=dict)
    aggregation: t.Any = None  # in Seeknal's `draft model` template, ignored by its executor
    tests: t.Any = None


NODE_CLASSES: t.Dict[str, t.Type[Node]] = {
    "source": SourceNode,
    "transform": TransformNode,
    "feature_group": FeatureGroupNode,
    "model": MLModelNode,
    "aggregation": AggregationNode,
    "second_order_aggregation": SecondOrderAggregationNode,
    "profile": ProfileNode,
    "rule": RuleNode,
    "exposure": ExposureNode,
    "semantic_model": SemanticModelNode,
    "metric": MetricNode,
}


class PythonNodeInfo(Lenient):
    """What the loader learned about a Python decorator node by reading (not running) its file."""

    decorator: str
    function: str
    source: str  # the function's source code, decorators removed
    module_source: str  # the whole file, for helper functions and imports
    ref_calls: t.List[str] = Field(default_factory=list)
    materialize: t.List[t.Dict[str, t.Any]] = Field(default_factory=list)


class Connection(Lenient):
    """A named connection from profiles.yml; secrets stay as environment-variable references."""

    name: str
    type: str
    values: t.Dict[str, t.Any] = Field(default_factory=dict)
    env_refs: t.Dict[str, t.Tuple[str, t.Optional[str]]] = Field(default_factory=dict)


class Profile(Lenient):
    path: t.Optional[Path] = None
    connections: t.Dict[str, Connection] = Field(default_factory=dict)
    source_defaults: t.Dict[str, t.Dict[str, t.Any]] = Field(default_factory=dict)
    starrocks: t.Dict[str, Connection] = Field(default_factory=dict)
    materialization: t.Dict[str, t.Any] = Field(default_factory=dict)


class Project(Lenient):
    root: Path
    name: str
    config: t.Dict[str, t.Any] = Field(default_factory=dict)
    nodes: t.Dict[str, Node] = Field(default_factory=dict)
    python_nodes: t.Dict[str, PythonNodeInfo] = Field(default_factory=dict)
    edges: t.Dict[str, t.List[str]] = Field(default_factory=dict)  # node id -> upstream ids
    order: t.List[str] = Field(default_factory=list)  # topological
    profile: Profile = Field(default_factory=Profile)
    common: t.Dict[str, t.Any] = Field(default_factory=dict)
    _children: t.Optional[t.Dict[str, t.List[str]]] = PrivateAttr(default=None)

    def downstream(self, node_id: str) -> t.List[str]:
        if self._children is None:  # built once: asked for every rule on big projects
            children: t.Dict[str, t.List[str]] = {}
            for child, ups in self.edges.items():
                for up in ups:
                    children.setdefault(up, []).append(child)
            self._children = {k: sorted(v) for k, v in children.items()}
        return self._children.get(node_id, [])
