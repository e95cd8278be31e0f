"""A content-addressed cache of rendered SQL models: re-translating renders only the models whose spec changed.

Rendering a model through SQLMesh (`output.render_sql_model`) is most of a translation's cost. Its result depends
only on the `ModelSpec` (query, kind, audits, columns, properties, gateway, dialect, ...) and on the code that
renders it, so the key is a hash of the spec in a canonical form (every SQL expression as sqlglot's structural
`dump`, comments and meta included) salted with the versions of seeknal-sqlmesh, SQLMesh and sqlglot and the source
of the rendering modules. A hit is the text a fresh render produced for an equal key, so output stays
byte-identical to a translation without the cache.

The cache is one JSON file in the data area (`<out>.data/translation/render.json`), which translation never swaps;
it keeps the entries the last translation used. Writes are atomic (temporary file + rename), and a missing,
corrupt or foreign file is an empty cache, never an error.
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from importlib import metadata
from pathlib import Path

from sqlglot import exp

from seeknal_sqlmesh.fingerprint import write_json_atomically
from seeknal_sqlmesh.translators.base import ModelSpec

CACHE_FORMAT = 1  # bump when the file's shape or the key's canonical form changes
RENDER_FILE = "render.json"
RENDERING_MODULES = ("output.py", "audits.py")  # beside this file: the code that turns a spec into text

Rendered = t.Tuple[str, t.Optional[str]]  # (model file, audits file or None)


class _Uncacheable(Exception):
    """A spec holds a value without a canonical form: it is rendered, not cached."""


def _canonical(value: t.Any) -> t.Any:
    if isinstance(value, exp.Expr):
        return {"expr": value.dump()}
    if isinstance(value, dict):
        return {"dict": [[str(k), _canonical(v)] for k, v in value.items()]}  # order kept: rendering may follow it
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"set": sorted(json.dumps(_canonical(v), sort_keys=True) for v in value)}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise _Uncacheable(type(value).__name__)


def spec_key(spec: ModelSpec, salt: str) -> t.Optional[str]:
    """The cache key of a SQL model, or None when the spec cannot be put in canonical form."""
    fields = [
        spec.name,
        spec.dialect,
        spec.gateway,
        spec.description,
        spec.owner,
        spec.cron,
        spec.cron_tz,
        spec.query,
        spec.kind,
        spec.pre_statements,
        spec.post_statements,
        spec.columns,
        spec.column_descriptions,
        spec.grains,
        spec.audits,
        [(a.name, a.query, a.blocking, a.description) for a in spec.custom_audits],
        spec.tags,
        spec.physical_properties,
        spec.depends_on,
    ]
    try:
        text = json.dumps([salt, _canonical(fields)], sort_keys=True, default=repr, separators=(",", ":"))
    except _Uncacheable:
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def render_salt() -> str:
    """What every rendered file depends on besides its spec: the versions and the source of the rendering code."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}".encode())
    for dist in ("seeknal-sqlmesh", "sqlmesh", "sqlglot"):
        digest.update(f"|{dist}={_version(dist)}".encode())
    for module in RENDERING_MODULES:  # read, not imported: output.py imports this module
        digest.update(Path(__file__).with_name(module).read_bytes())
    return digest.hexdigest()


class RenderCache:
    """Rendered models by key. `lookup` and `store` record the keys in use; `save` keeps only those."""

    def __init__(self, path: t.Optional[Path] = None) -> None:
        self.path = path
        self.salt = render_salt()
        self._entries: t.Dict[str, Rendered] = {}
        self._used: t.Dict[str, Rendered] = {}
        self.hits = 0
        self.misses = 0
        if path is not None:
            self._entries = self._read(path)

    def _read(self, path: Path) -> t.Dict[str, Rendered]:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("salt") != self.salt:
            return {}
        entries = data.get("entries")
        if not isinstance(entries, dict):
            return {}
        return {
            k: (v[0], v[1])
            for k, v in entries.items()
            if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], (str, type(None)))
        }

    def key(self, spec: ModelSpec) -> t.Optional[str]:
        return spec_key(spec, self.salt) if self.path is not None else None  # no file: nothing to look up or keep

    def lookup(self, key: t.Optional[str]) -> t.Optional[Rendered]:
        found = self._entries.get(key) if key else None
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._used[t.cast(str, key)] = found
        return found

    def store(self, key: t.Optional[str], rendered: Rendered) -> None:
        if key:
            self._used[key] = rendered

    def save(self) -> None:
        if self.path is None:
            return
        entries = dict(sorted(self._used.items()))
        write_json_atomically(self.path, {"format": CACHE_FORMAT, "salt": self.salt, "entries": entries})
