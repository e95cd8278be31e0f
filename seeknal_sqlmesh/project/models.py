"""Typed models of Seeknal 2.13 nodes, one class per kind.

Field names and defaults follow what Seeknal's executors really read (see shared/reference/seeknal.md),
not what its docs say. Unknown fields are kept (`extra="allow"`) because Seeknal ignores them too.
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


class ColumnSpec(Lenient):
    description: str = ""
    dtype: t.Optional[str] = None


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

    @field_validator("unique_keys", "partition_by", mode="before")
    @classmethod
    def _listify(cls, v):
        if v is None:
            return []
        return [v] if isinstance(v, str) else v

    @field_validator("lookback", mode="before")
    @classmethod
    def _lookback_days(cls, v):
        # Seeknal accepts an integer number of days; docs show "7d", which we accept too.
        if isinstance(v, str) and v.strip().lower().endswith("d") and v.strip()[:-1].isdigit():
            return int(v.strip()[:-1])
        return v


class Freshness(Lenient):
    time_column: t.Optional[str] = None


class Schedule(Lenient):
    cron: str
    timezone: t.Optional[str] = None


class Node(Lenient):
    """Fields shared by every kind."""

    kind: str
    name: str
    description: str = ""
    owner: t.Optional[str] = None
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
            return {c["name"]: c for c in v if isinstance(c, dict) and "name" in c}
        return {k: ({"description": d} if isinstance(d, str) or d is None else d) for k, d in v.items()}

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, v):
        return {"cron": v} if isinstance(v, str) else v

    @model_validator(mode="before")
    @classmethod
    def _normalize_materialization(cls, data):
        # `materialization` (one dict) or `materializations` (a list); both is an error in Seeknal.
        if not isinstance(data, dict):
            return data
        single = data.get("materialization")
        if single is not None and data.get("kind") != "feature_group":
            if data.get("materializations"):
                raise ValueError("use either 'materialization' or 'materializations', not both")
            data = {**data, "materializations": [single]}
        if data.get("materializations") is None:
            data = {**data, "materializations": []}
        return data

    def active_materializations(self) -> t.List[Materialization]:
        return [m for m in self.materializations if m.enabled]


class SourceNode(Node):
    source: str
    table: t.Optional[str] = None

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


class FeatureGroupNode(Node):
    entity: Entity
    transform: t.Optional[str] = None
    features: t.Dict[str, ColumnSpec] = Field(default_factory=dict)
    materialization: FeatureGroupMaterialization = Field(default_factory=FeatureGroupMaterialization)

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
        if isinstance(v, list):
            return {str(f): {} if not isinstance(f, dict) else f for f in v}
        return {k: ({"description": d} if isinstance(d, str) or d is None else d) for k, d in v.items()}

    @property
    def event_time_col(self) -> str:
        return self.materialization.event_time_col or "event_time"

    @property
    def online_ttl(self) -> t.Optional[str]:
        online = self.materialization.online
        return online.get("ttl") if isinstance(online, dict) else None


class AggregationFeature(Lenient):
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
    """semantic_model and metric: metadata for the semantic layer, kept verbatim."""

    model: t.Optional[str] = None
    raw: t.Dict[str, t.Any] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _metric_inputs(cls, data):
        # a derived metric's `inputs: [{metric, alias, offset}]` names metrics, not upstream nodes
        if isinstance(data, dict) and isinstance(data.get("inputs"), list):
            if any(isinstance(i, dict) and "ref" not in i for i in data["inputs"]):
                data = {k: v for k, v in data.items() if k != "inputs"}
        return data


class MLModelNode(Node):
    output_columns: t.List[str] = Field(default_factory=list)
    training: t.Dict[str, t.Any] = Field(default_factory=dict)


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
    "semantic_model": SemanticNode,
    "metric": SemanticNode,
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
