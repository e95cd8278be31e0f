"""profiles.yml: named connections, source defaults and StarRocks targets.

`${VAR}` and `${VAR:default}` are kept as references (never resolved to their values) so that translated
configuration files carry `{{ env_var('VAR') }}` instead of secrets.
"""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import yaml

from seeknal_sqlmesh.errors import Problems
from seeknal_sqlmesh.project.models import Connection, Profile

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def find_profile(root: Path, explicit: t.Optional[Path] = None, env: t.Optional[str] = None) -> t.Optional[Path]:
    """Seeknal's lookup: --profile, then ./profiles-<env>.yml, then the project's profiles.yml."""
    candidates = [explicit] if explicit else []
    if env:
        candidates.append(root / f"profiles-{env}.yml")
    candidates.append(root / "profiles.yml")
    return next((p for p in candidates if p and p.is_file()), None)


def _connection(name: str, raw: t.Dict[str, t.Any], default_type: str) -> Connection:
    values: t.Dict[str, t.Any] = {}
    env_refs: t.Dict[str, t.Tuple[str, t.Optional[str]]] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            m = ENV_REF.fullmatch(value.strip())
            if m:
                env_refs[key] = (m.group(1), m.group(2))
                continue
        values[key] = value
    conn_type = str(values.pop("type", default_type)).lower()
    return Connection(
        name=name, type="postgresql" if conn_type == "postgres" else conn_type, values=values, env_refs=env_refs
    )


def load_profile(path: t.Optional[Path], problems: Problems) -> Profile:
    if path is None:
        return Profile()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        problems.error(path, "", "", f"profiles file is not valid YAML: {e}")
        return Profile(path=path)
    if not isinstance(raw, dict):
        problems.error(path, "", "", "profiles file must be a mapping")
        return Profile(path=path)
    profile = Profile(path=path, materialization=raw.get("materialization") or {})
    for name, conn in (raw.get("connections") or {}).items():
        if not isinstance(conn, dict):
            problems.error(path, f"connections.{name}", "", "a connection must be a mapping")
            continue
        profile.connections[name] = _connection(name, conn, "postgresql")
    for name, conn in (raw.get("starrocks") or {}).items():
        if isinstance(conn, dict):
            profile.starrocks[name] = _connection(name, conn, "starrocks")
    for src_type, defaults in (raw.get("source_defaults") or {}).items():
        key = "postgresql" if src_type == "postgres" else src_type
        profile.source_defaults[key] = dict(defaults or {})
    return profile
