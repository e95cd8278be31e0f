"""StarRocks statements the `seeknal` commands send: the external Iceberg catalog and one async MV per metric.

Materialized views are sqlglot trees (`materialized_view`, `drop_materialized_view`) rendered with `sqlkit.to_sql`.
`CREATE EXTERNAL CATALOG` is the one statement written as text: sqlglot has no node for catalogs (it parses the
statement into an opaque `exp.Command`); its name and values are still quoted by sqlglot.

Secrets are never part of printed SQL: `Statement.shown` carries `${ENV_VAR}` placeholders where `Statement.sent`
(only ever given to the database driver) has the values.
"""

from __future__ import annotations

import os
import re
import typing as t
from dataclasses import dataclass, field

from sqlglot import exp

from seeknal_sqlmesh.sqlkit import Expr, col, ident, string, to_sql
from seeknal_sqlmesh.starrocks.errors import CommandError

if t.TYPE_CHECKING:
    from seeknal_sqlmesh.project.models import Profile
    from seeknal_sqlmesh.semantic import SemanticLayer

DIALECT = "starrocks"
CATALOG_NAME = "lakehouse"
CATALOG_COMMENT = "Iceberg REST catalog (Lakekeeper), created by seeknal"
DEFAULT_CATALOG_URI = "http://localhost:8181/catalog"
DEFAULT_WAREHOUSE = "seeknal-warehouse"
# StarRocks property names (replication_num, session.query_timeout, ...). sqlglot 30.8 writes a property's key
# between quotes without escaping it, so a key is checked instead.
PROPERTY_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
INTERVAL = re.compile(r"^\s*(\d+)\s+(SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)S?\s*$", re.IGNORECASE)
# (StarRocks Iceberg REST catalog property, environment variables, secret?) — StarRocks docs "Iceberg catalog"
CATALOG_ENV = (
    ("iceberg.catalog.oauth2.credential", ("LAKEKEEPER_CREDENTIAL",), True),
    ("iceberg.catalog.oauth2.server-uri", ("KEYCLOAK_TOKEN_URL", "LAKEKEEPER_OAUTH2_SERVER_URI"), False),
    ("iceberg.catalog.oauth2.scope", ("LAKEKEEPER_OAUTH2_SCOPE",), False),
    ("aws.s3.endpoint", ("AWS_ENDPOINT_URL", "S3_ENDPOINT"), False),
    ("aws.s3.region", ("AWS_REGION", "AWS_DEFAULT_REGION"), False),
    ("aws.s3.access_key", ("AWS_ACCESS_KEY_ID",), True),
    ("aws.s3.secret_key", ("AWS_SECRET_ACCESS_KEY",), True),
)


@dataclass(frozen=True)
class Statement:
    shown: str  # printable: secrets replaced by ${ENV_VAR}
    sent: str  # what the database receives
    secrets: t.Tuple[str, ...] = ()

    @classmethod
    def of(cls, tree: Expr) -> Statement:
        """A statement without secrets, from its sqlglot tree."""
        sql = to_sql(tree, DIALECT)
        return cls(sql, sql)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


# ---------------------------------------------------------------------------------------------- external catalog


def _first_env(names: t.Sequence[str]) -> t.Tuple[t.Optional[str], t.Optional[str]]:
    for name in names:
        if os.environ.get(name):
            return name, os.environ[name]
    return None, None


def _profile_value(profile: Profile, section: str, *keys: str) -> t.Optional[str]:
    """A value of profiles.yml `materialization.catalog` / `source_defaults.iceberg`, `${VAR:default}` resolved."""
    from seeknal_sqlmesh.project.profiles import ENV_REF

    data = (
        profile.materialization.get("catalog", {})
        if section == "catalog"
        else profile.source_defaults.get("iceberg", {})
    )
    for key in keys:
        value = (data or {}).get(key)
        if isinstance(value, str):
            return ENV_REF.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    return None


def _catalog_sql(name: str, pairs: t.Sequence[t.Tuple[str, str]]) -> str:
    """The one statement built as text (see the module docstring); every name and value is quoted by sqlglot."""

    def quote(value: str) -> str:
        return to_sql(string(value), DIALECT)

    body = ",\n".join(f"  {quote(k)} = {quote(v)}" for k, v in pairs)
    return (
        f"CREATE EXTERNAL CATALOG IF NOT EXISTS {to_sql(ident(name), DIALECT)}\n"
        f"COMMENT {quote(CATALOG_COMMENT)}\nPROPERTIES (\n{body}\n)"
    )


def catalog_statement(profile: Profile, name: str = CATALOG_NAME) -> Statement:
    """`CREATE EXTERNAL CATALOG` for an Iceberg REST catalog (Lakekeeper): URI and warehouse from profiles.yml
    (`materialization.catalog` or `source_defaults.iceberg`, else LAKEKEEPER_URI / LAKEKEEPER_WAREHOUSE), OAuth2 and
    S3 settings from the environment."""
    uri = (
        _profile_value(profile, "catalog", "uri")
        or _profile_value(profile, "iceberg", "catalog_uri")
        or os.environ.get("LAKEKEEPER_URI")
        or os.environ.get("LAKEKEEPER_URL")
        or DEFAULT_CATALOG_URI
    )
    warehouse = (
        _profile_value(profile, "catalog", "warehouse")
        or _profile_value(profile, "iceberg", "warehouse")
        or os.environ.get("LAKEKEEPER_WAREHOUSE")
        or DEFAULT_WAREHOUSE
    )
    shown: t.List[t.Tuple[str, str]] = [
        ("type", "iceberg"),
        ("iceberg.catalog.type", "rest"),
        ("iceberg.catalog.uri", uri),
        ("iceberg.catalog.warehouse", warehouse),
    ]
    sent = list(shown)
    client_id = os.environ.get("LAKEKEEPER_CLIENT_ID") or os.environ.get("KEYCLOAK_CLIENT_ID")
    client_secret = os.environ.get("LAKEKEEPER_CLIENT_SECRET") or os.environ.get("KEYCLOAK_CLIENT_SECRET")
    for prop, env_names, is_secret in CATALOG_ENV:
        var, value = _first_env(env_names)
        if prop == "iceberg.catalog.oauth2.credential" and value is None and client_id and client_secret:
            var, value = "LAKEKEEPER_CLIENT_ID:LAKEKEEPER_CLIENT_SECRET", f"{client_id}:{client_secret}"
        if var is None or value is None:
            continue
        if prop == "iceberg.catalog.oauth2.credential":
            shown.append(("iceberg.catalog.security", "oauth2"))
            sent.append(("iceberg.catalog.security", "oauth2"))
        shown.append((prop, "${" + var + "}" if is_secret else value))
        sent.append((prop, value))
        if prop == "aws.s3.endpoint":
            shown.append(("aws.s3.enable_path_style_access", "true"))
            sent.append(("aws.s3.enable_path_style_access", "true"))
    secrets = tuple(v for (_, v), (_, shown_v) in zip(sent, shown, strict=True) if v != shown_v)
    return Statement(_catalog_sql(name, shown), _catalog_sql(name, sent), secrets)


# ---------------------------------------------------------------------------------------------- materialized views


@dataclass(frozen=True)
class MVSettings:
    """How each MV is refreshed and stored (StarRocks docs, CREATE MATERIALIZED VIEW); columns are the MV's own."""

    refresh: str = "1 DAY"  # '<n> <unit>' (REFRESH ASYNC EVERY) or MANUAL
    partition_by: t.Sequence[str] = ()
    distributed_by: t.Sequence[str] = ()  # HASH columns; with only `buckets`, RANDOM; neither: StarRocks' default
    buckets: t.Optional[int] = None
    order_by: t.Sequence[str] = ()
    properties: t.Mapping[str, str] = field(default_factory=dict)

    def columns(self) -> t.Set[str]:
        return {*self.partition_by, *self.distributed_by, *self.order_by}


def refresh_trigger(refresh: str) -> exp.RefreshTriggerProperty:
    """`--refresh "1 DAY"` -> `REFRESH ASYNC EVERY (INTERVAL 1 DAY)`; `MANUAL` -> `REFRESH MANUAL`."""
    if refresh.strip().upper() == "MANUAL":
        return exp.RefreshTriggerProperty(kind="MANUAL")
    m = INTERVAL.match(refresh)
    if not m:
        raise CommandError(
            f"--refresh '{refresh}' is not '<n> <unit>' (unit: MINUTE, HOUR, DAY, WEEK, MONTH, YEAR) or MANUAL"
        )
    return exp.RefreshTriggerProperty(
        kind="ASYNC", every=exp.Literal.number(int(m.group(1))), unit=exp.var(m.group(2).upper())
    )


def mv_table(name: str, database: t.Optional[str] = None) -> exp.Table:
    return exp.Table(this=ident(name), db=ident(database) if database else None)


def materialized_view(target: exp.Table, query: exp.Query, settings: MVSettings) -> exp.Create:
    """`CREATE MATERIALIZED VIEW IF NOT EXISTS target [PARTITION BY] [DISTRIBUTED BY] REFRESH ... [ORDER BY]
    [PROPERTIES] AS query`, in the clause order of StarRocks' grammar."""
    props: t.List[Expr] = [exp.MaterializedProperty()]
    if settings.partition_by:
        props.append(exp.PartitionedByProperty(this=exp.Schema(expressions=[col(c) for c in settings.partition_by])))
    if settings.distributed_by or settings.buckets:
        props.append(
            exp.DistributedByProperty(
                kind="HASH" if settings.distributed_by else "RANDOM",
                expressions=[ident(c) for c in settings.distributed_by],
                buckets=exp.Literal.number(settings.buckets) if settings.buckets else None,
            )
        )
    props.append(refresh_trigger(settings.refresh))
    if settings.order_by:
        keys = exp.Tuple(expressions=[col(c) for c in settings.order_by])
        props.append(exp.Order(expressions=[exp.Ordered(this=keys, nulls_first=True)]))
    for key, value in settings.properties.items():
        if not PROPERTY_KEY.match(key):
            raise CommandError(f"'{key}' is not a StarRocks property name", "use names such as replication_num")
        props.append(exp.Property(this=string(key), value=string(value)))
    return exp.Create(
        this=target, kind="VIEW", exists=True, expression=query, properties=exp.Properties(expressions=props)
    )


def drop_materialized_view(target: exp.Table) -> exp.Drop:
    return exp.Drop(this=target, kind="VIEW", materialized=True, exists=True)


def mv_name(metric: str, dimensions: t.Sequence[str]) -> str:
    suffix = "__by__" + "__".join(dimensions) if dimensions else ""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"mv_{metric}{suffix}").lower()[:64]


def metric_query(layer: SemanticLayer, metric: str, dimensions: t.Sequence[str]) -> exp.Query:
    """The semantic layer's StarRocks query of one metric by `dimensions`, as a tree.

    `SemanticLayer.compile` returns text; it is parsed back with the StarRocks dialect (sqlglot renders it, so it
    parses, and regenerates to the same text)."""
    import sqlglot

    sql = layer.compile(metrics=[metric], group_by=list(dimensions), dialect=DIALECT, pretty=False)
    query = sqlglot.parse_one(sql, read=DIALECT)
    if not isinstance(query, exp.Query):
        raise CommandError(f"metric {metric}: the semantic layer did not return a query")
    return query


def metric_statements(
    layer: SemanticLayer,
    metrics: t.Sequence[str],
    dimension_sets: t.Sequence[t.Sequence[str]],
    database: t.Optional[str],
    settings: t.Optional[MVSettings] = None,
    drop_existing: bool = False,
    on_error: t.Optional[t.Callable[[str, t.Sequence[str], Exception], None]] = None,
) -> t.List[Statement]:
    """One async MV per metric and dimension set, from the semantic layer's StarRocks rendering:
    `[DROP MATERIALIZED VIEW IF EXISTS mv;] CREATE MATERIALIZED VIEW IF NOT EXISTS mv ... AS <query>`."""
    settings = settings or MVSettings()
    refresh_trigger(settings.refresh)  # a bad --refresh is reported before any metric is compiled
    out: t.List[Statement] = []
    for metric in metrics:
        for dims in dimension_sets or [()]:
            try:
                query = metric_query(layer, metric, dims)
            except Exception as e:  # e.g. an offset metric grouped without metric_time
                if on_error is None:
                    raise
                on_error(metric, dims, e)
                continue
            name = mv_name(metric, dims)
            missing = sorted(settings.columns() - set(query.named_selects))
            if missing:
                raise CommandError(
                    f"{name} has no column {', '.join(missing)} (its columns: {', '.join(query.named_selects)})",
                    "partition, distribute and order each MV by its dimensions or its metric",
                )
            target = mv_table(name, database)
            if drop_existing:
                out.append(Statement.of(drop_materialized_view(target)))
            out.append(Statement.of(materialized_view(target, query, settings)))
    return out


def deployable_metrics(layer: SemanticLayer) -> t.Tuple[t.List[str], t.List[str]]:
    """(metrics to deploy, cumulative metrics skipped): a cumulative metric has no fixed grain to materialize."""
    deploy: t.List[str] = []
    skipped: t.List[str] = []
    for name in layer.metrics():
        metric = layer.manifest.metrics[name]
        kind = str(getattr(metric, "type", getattr(metric, "kind", ""))).lower()
        (skipped if "cumulative" in kind else deploy).append(name)
    return deploy, skipped
