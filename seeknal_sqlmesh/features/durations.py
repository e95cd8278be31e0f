"""Time-to-live values: Seeknal writes them as `7d`, `12h`, `30m`, `45s` (or `1w`); Python callers may pass a
`timedelta`. TTLs are whole seconds, so every engine can compare with `t - INTERVAL 'n' SECOND`."""

from __future__ import annotations

import re
import typing as t
from datetime import timedelta

from seeknal_sqlmesh.features.errors import FeatureStoreError

UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)\s*(w|d|h|m|s)")

TTL = t.Union[None, str, int, timedelta]


def parse_ttl(value: TTL, where: str = "ttl") -> t.Optional[timedelta]:
    """`7d`, `1d12h`, `90m`, `3600` (seconds), a timedelta, or None (no TTL)."""
    if value is None or isinstance(value, timedelta):
        seconds = None if value is None else value.total_seconds()
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "none", "0"):
            return None
        if text.isdigit():
            seconds = int(text)
        else:
            parts = _PART.findall(text)
            if not parts or _PART.sub("", text).strip():
                raise FeatureStoreError(f"{where}: '{value}' is not a duration; write e.g. 7d, 12h, 30m, 45s or 1d12h")
            seconds = sum(int(n) * UNITS[u] for n, u in parts)
    else:
        raise FeatureStoreError(f"{where}: {value!r} is not a duration")
    if seconds is None:
        return None
    if seconds <= 0 or seconds != int(seconds):
        raise FeatureStoreError(f"{where}: a TTL must be a positive whole number of seconds, got {value!r}")
    return timedelta(seconds=int(seconds))


def format_ttl(value: t.Optional[timedelta]) -> t.Optional[str]:
    """The shortest `1d12h`-style spelling (what manifests record)."""
    if value is None:
        return None
    seconds = int(value.total_seconds())
    out = []
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, UNITS[unit])
        if n:
            out.append(f"{n}{unit}")
    return "".join(out) or "0s"
