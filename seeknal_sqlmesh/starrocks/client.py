"""Connections the `seeknal` commands open to StarRocks themselves (SQLMesh's gateways use the engine adapter):
a `starrocks:` entry of profiles.yml -> pymysql settings -> a connection, with errors for people."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from seeknal_sqlmesh.starrocks.errors import CommandError

if t.TYPE_CHECKING:
    import pymysql

    from seeknal_sqlmesh.contract import ProjectPaths
    from seeknal_sqlmesh.project.models import Connection, Profile
    from seeknal_sqlmesh.starrocks.ddl import Statement

CONNECT_TIMEOUT = 10  # seconds: an unreachable host fails fast instead of hanging the command


def seeknal_project(project: ProjectPaths) -> Path:
    """The Seeknal project behind `-p` (a translated project knows it from its manifest)."""
    if project.seeknal is None:
        source = (project.translated / project.manifest.seeknal_project).resolve()
        raise CommandError(
            f"profiles.yml is read from the Seeknal project, and {project.translated} was translated from {source}, "
            "which is not a Seeknal project (any more)",
            "pass the Seeknal project with -p, or profiles.yml with --profile",
        )
    return project.seeknal


def resolve_connection(
    project: ProjectPaths, connection: str, profile_path: t.Optional[Path] = None
) -> t.Tuple[Profile, t.Dict[str, t.Any]]:
    """profiles.yml (`--profile`, else the Seeknal project's) -> pymysql settings of one `starrocks:` entry (or a
    `connections:` entry of type starrocks), `${VAR:default}` resolved from the environment."""
    from seeknal_sqlmesh.errors import Problems
    from seeknal_sqlmesh.project.profiles import find_profile, load_profile

    root = seeknal_project(project) if profile_path is None else (project.seeknal or profile_path.parent)
    path = profile_path or find_profile(root)
    if path is None:
        raise CommandError(f"no profiles.yml in {root}", "pass profiles.yml with --profile")
    problems = Problems(root)
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
    settings: t.Dict[str, t.Any] = {
        "host": str(values.get("host", "localhost")),
        "port": int(values.get("port") or 9030),
        "user": str(values.get("user", "root")),
        "password": str(values.get("password") or ""),
    }
    if values.get("database"):
        settings["database"] = str(values["database"])
    return profile, settings


def connect(settings: t.Mapping[str, t.Any], name: str = "") -> pymysql.connections.Connection:
    import pymysql

    try:
        return pymysql.connect(autocommit=True, connect_timeout=CONNECT_TIMEOUT, **settings)
    except pymysql.err.MySQLError as e:
        label = f" '{name}'" if name else ""
        raise CommandError(
            f"cannot connect to StarRocks{label} at {settings['host']}:{settings['port']}: {e.args[-1]}",
            "check the connection in profiles.yml and that the server is up",
        ) from None


def execute(settings: t.Mapping[str, t.Any], statements: t.Sequence[Statement]) -> None:
    """Send the statements in order; the first refusal stops, reported with the printable statement."""
    import pymysql

    con = connect(settings)
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
