"""StarRocks statements the `seeknal` commands send: the external Iceberg catalog and one async MV per metric.

Secrets are never part of printed SQL: `Statement.shown` carries `${ENV_VAR}` placeholders where `Statement.sent`
(only ever given to the database driver) has the values.
"""

from __future__ import annotations

import os
import re
import typing as t
from dataclasses import dataclass
from pathlib import Path

from seeknal_sqlmesh.project.models import Connection, Profile

CATALOG_NAME = "lakehouse"
DEFAULT_CATALOG_URI = "http://localhost:8181/catalog"
DEFAULT_WAREHOUSE = "seeknal-warehouse"
INTERVAL = re.compile(r"^\s*(\d+)\s+(SECOND|MINUTE|HOUR|DAY|WEEK|MONTH|YEAR)S?\s*$", re.IGNORECASE)
# (StarRocks Iceberg REST catalog property, environment variable, secret?) — StarRocks docs "Iceberg catalog"
CATALOG_ENV = (
    ("iceberg.catalog.oauth2.credential", ("LAKEKEEPER_CREDENTIAL",), True),
    ("iceberg.catalog.oauth2.server-uri", ("KEYCLOAK_TOKEN_URL", "LAKEKEEPER_OAUTH2_SERVER_URI"), False),
    ("iceberg.catalog.oauth2.scope", ("LAKEKEEPER_OAUTH2_SCOPE",), False),
    ("aws.s3.endpoint", ("AWS_ENDPOINT_URL", "S3_ENDPOINT"), False),
    ("aws.s3.region", ("AWS_REGION", "AWS_DEFAULT_REGION"), False),
    ("aws.s3.access_key", ("AWS_ACCESS_KEY_ID",), True),
    ("aws.s3.secret_key", ("AWS_SECRET_ACCESS_KEY",), True),
)


class CommandError(Exception):
    """A problem a person can fix (exit code 2)."""


@dataclass
class Statement:
    shown: str  # printable: secrets replaced by ${ENV_VAR}
    sent: str  # what the database receives
    secrets: t.Tuple[str, ...] = ()

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


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
    client_id, secret = (
        os.environ.get("LAKEKEEPER_CLIENT_ID") or os.environ.get("KEYCLOAK_CLIENT_ID"),
        (os.environ.get("LAKEKEEPER_CLIENT_SECRET") or os.environ.get("KEYCLOAK_CLIENT_SECRET")),
    )
    for prop, env_names, is_secret in CATALOG_ENV:
        var, value = _first_env(env_names)
        if prop == "iceberg.catalog.oauth2.credential" and value is None and client_id and secret:
            var, value = "LAKEKEEPER_CLIENT_ID:LAKEKEEPER_CLIENT_SECRET", f"{client_id}:{secret}"
        if value is None:
            continue
        if prop == "iceberg.catalog.oauth2.credential":
            shown.append(("iceberg.catalog.security", "oauth2"))
            sent.append(("iceberg.catalog.security", "oauth2"))
        shown.append((prop, "${" + var + "}" if is_secret else value))
        sent.append((prop, value))
        if prop == "aws.s3.endpoint":
            shown.append(("aws.s3.enable_path_style_access", "true"))
            sent.append(("aws.s3.enable_path_style_access", "true"))

    def render(pairs: t.List[t.Tuple[str, str]]) -> str:
        body = ",\n".join(f"  {_quote(k)} = {_quote(v)}" for k, v in pairs)
        return f"CREATE EXTERNAL CATALOG IF NOT EXISTS {_ident(name)}\nCOMMENT 'Iceberg REST catalog (Lakekeeper), created by seeknal'\nPROPERTIES (\n{body}\n)"

    secrets = tuple(v for (k, v), (_, shown_v) in zip(sent, shown) if v != shown_v)
    return Statement(render(shown), render(sent), secrets)


def refresh_clause(refresh: str) -> str:
    """`--refresh "1 DAY"` -> `ASYNC EVERY (INTERVAL 1 DAY)`; `MANUAL` stays MANUAL."""
    if refresh.strip().upper() == "MANUAL":
        return "MANUAL"
    m = INTERVAL.match(refresh)
    if not m:
        raise CommandError(
            f"--refresh '{refresh}' is not '<n> <unit>' (unit: MINUTE, HOUR, DAY, WEEK, MONTH, YEAR) or MANUAL"
        )
    return f"ASYNC EVERY (INTERVAL {int(m.group(1))} {m.group(2).upper()})"


def mv_name(metric: str, dimensions: t.Sequence[str]) -> str:
    suffix = "__by__" + "__".join(dimensions) if dimensions else ""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"mv_{metric}{suffix}").lower()[:64]


def metric_statements(
    layer: t.Any,
    metrics: t.Sequence[str],
    dimension_sets: t.Sequence[t.Sequence[str]],
    database: t.Optional[str],
    refresh: str = "1 DAY",
    drop_existing: bool = False,
    on_error: t.Optional[t.Callable[[str, t.Sequence[str], Exception], None]] = None,
) -> t.List[Statement]:
    """One async MV per metric and dimension set, from the semantic layer's StarRocks rendering:
    `[DROP MATERIALIZED VIEW IF EXISTS mv;] CREATE MATERIALIZED VIEW IF NOT EXISTS mv REFRESH ... AS <query>`."""
    clause = refresh_clause(refresh)
    out: t.List[Statement] = []
    for metric in metrics:
        for dims in dimension_sets or [()]:
            try:
                query = layer.compile(metrics=[metric], group_by=list(dims), dialect="starrocks", pretty=False)
            except Exception as e:  # e.g. an offset metric grouped without metric_time
                if on_error is None:
                    raise
                on_error(metric, dims, e)
                continue
            name = mv_name(metric, dims)
            target = f"{_ident(database)}.{_ident(name)}" if database else _ident(name)
            if drop_existing:
                sql = f"DROP MATERIALIZED VIEW IF EXISTS {target}"
                out.append(Statement(sql, sql))
            sql = f"CREATE MATERIALIZED VIEW IF NOT EXISTS {target} REFRESH {clause} AS {query}"
            out.append(Statement(sql, sql))
    return out


def deployable_metrics(layer: t.Any) -> t.Tuple[t.List[str], t.List[str]]:
    """(metrics to deploy, cumulative metrics skipped): a cumulative metric has no fixed grain to materialize."""
    deploy, skipped = [], []
    for name in layer.metrics():
        metric = layer.manifest.metrics[name]
        kind = str(getattr(metric, "type", getattr(metric, "kind", ""))).lower()
        (skipped if "cumulative" in kind else deploy).append(name)
    return deploy, skipped


def resolve_connection(
    project: Path, connection: str, profile_path: t.Optional[Path] = None
) -> t.Tuple[Profile, t.Dict[str, t.Any]]:
    """profiles.yml of the Seeknal project (or the translated project's source) -> pymysql settings of one
    `starrocks:` (or `connections:` of type starrocks) entry, `${VAR:default}` resolved from the environment."""
    from seeknal_sqlmesh.errors import Problems
    from seeknal_sqlmesh.project.profiles import find_profile, load_profile

    path = profile_path or find_profile(project)
    if path is None:
        raise CommandError(f"no profiles.yml in {project}: give the Seeknal project (--project) or --profile")
    problems = Problems(project)
    profile = load_profile(path, problems)
    if problems.items:
        raise CommandError("\n".join(str(p) for p in problems.items))
    conns: t.Dict[str, Connection] = {
        **{k: v for k, v in profile.connections.items() if v.type == "starrocks"},
        **profile.starrocks,
    }
    if connection not in conns:
        known = ", ".join(sorted(conns)) or "none"
        raise CommandError(f"no StarRocks connection '{connection}' in {path} (known: {known})")
    conn = conns[connection]
    values = dict(conn.values)
    for key, (var, default) in conn.env_refs.items():
        if var in os.environ:
            values[key] = os.environ[var]
        elif default is not None:
            values[key] = default
        else:
            raise CommandError(f"connection '{connection}': environment variable {var} ({key}) is not set")
    settings = {
        "host": str(values.get("host", "localhost")),
        "port": int(values.get("port") or 9030),
        "user": str(values.get("user", "root")),
        "password": str(values.get("password") or ""),
    }
    if values.get("database"):
        settings["database"] = str(values["database"])
    return profile, settings


def execute(settings: t.Dict[str, t.Any], statements: t.Sequence[Statement]) -> None:
    import pymysql

    try:
        con = pymysql.connect(autocommit=True, connect_timeout=10, **settings)
    except pymysql.err.MySQLError as e:
        raise CommandError(
            f"cannot connect to StarRocks at {settings['host']}:{settings['port']}: {e.args[-1]}"
        ) from None
    try:
        with con.cursor() as cur:
            for statement in statements:
                try:
                    cur.execute(statement.sent)
                except pymysql.err.MySQLError as e:
                    raise CommandError(
                        f"StarRocks refused:\n{statement.shown}\n-> {statement.scrub(str(e.args[-1]))}"
                    ) from None
    finally:
        con.close()
