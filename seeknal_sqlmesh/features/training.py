"""Training sets on disk: spines in, Parquet/CSV/JSON out, and the manifest that makes a training set reproducible.

The manifest (a JSON sidecar `<output stem>.manifest.json`, also embedded in Parquet output as the key-value
metadata `seeknal.training_set`) records what a replay needs and checks: the environment, every feature group's
SQLMesh snapshot (fingerprint, version, physical table, processed intervals), the request (features, time column,
TTLs, SQL form), the spine (path, row count, content hash) and the output's content hash.

Content hashes are computed on the data, not the file bytes: a spine read from CSV and the same rows passed as a
DataFrame hash alike, and a replay proves it rebuilt the same rows by hashing them.
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from pathlib import Path

import pyarrow as pa

from seeknal_sqlmesh.features import sql as q
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.sqlkit import string, to_sql

MANIFEST_KIND = "seeknal-sqlmesh training set"
MANIFEST_VERSION = 1
PARQUET_KEY = b"seeknal.training_set"
FORMATS = ("parquet", "csv", "json")  # a training set is data with types: never a drawn table
SPINE_FORMATS = {".parquet": "read_parquet", ".pq": "read_parquet", ".csv": "read_csv_auto", ".tsv": "read_csv_auto"}

SpineLike = t.Union[str, Path, "pa.Table", t.Any]  # a path, an Arrow table or a pandas DataFrame


def read_spine(spine: SpineLike, con: t.Any = None) -> t.Tuple[pa.Table, t.Optional[Path]]:
    """The spine as an Arrow table (types kept), and its path when it came from a file."""
    if isinstance(spine, pa.Table):
        return spine, None
    if isinstance(spine, (str, Path)):
        path = Path(spine).resolve()
        reader = SPINE_FORMATS.get(path.suffix.lower())
        if reader is None:
            raise FeatureStoreError(f"{path}: a spine is a .parquet or .csv file")
        if not path.is_file():
            raise FeatureStoreError(f"{path}: no such spine file")
        import duckdb
        from sqlglot import exp

        reading = to_sql(q.select(exp.Star(), source=exp.Anonymous(this=reader, expressions=[string(str(path))])))
        try:
            return arrow_of((con or duckdb.connect()).execute(reading)), path
        except duckdb.Error as e:
            raise FeatureStoreError(f"{path}: cannot read the spine: {e}") from None
    if hasattr(spine, "columns") and hasattr(spine, "dtypes"):  # pandas
        return pa.Table.from_pandas(spine, preserve_index=False), None
    raise FeatureStoreError(f"a spine is a path, a pandas DataFrame or an Arrow table, not {type(spine).__name__}")


def arrow_of(result: t.Any) -> pa.Table:
    """A DuckDB result as an Arrow table (`to_arrow_table` since DuckDB 1.4, `fetch_arrow_table` before)."""
    return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result.fetch_arrow_table()


def digest(table: pa.Table) -> str:
    """sha256 of a table's column names, types and values, in row order (independent of Arrow chunking).

    Computed from Arrow buffers: per column the null mask, then the values with NULL slots zeroed (fixed-width
    types, read as integers), or the offsets and bytes of strings; other types (decimals, lists, structs) through
    the `repr` of each value.
    """
    import numpy as np

    h = hashlib.sha256()
    h.update(json.dumps([[f.name, str(f.type)] for f in table.schema]).encode())
    h.update(str(table.num_rows).encode())
    for column in table.columns:
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        for part in _column_parts(array, np):
            h.update(part)
    return h.hexdigest()


def _column_parts(array: pa.Array, np: t.Any) -> t.Iterator[t.Any]:
    import pyarrow.compute as pc

    kind = array.type
    yield np.packbits(array.is_null().to_numpy(zero_copy_only=False)).tobytes()
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    ):
        filled = pc.fill_null(array.cast(pa.large_binary()), b"")
        offsets = np.frombuffer(filled.buffers()[1], dtype=np.int64)[filled.offset : filled.offset + len(filled) + 1]
        yield (offsets - offsets[0]).tobytes()
        yield memoryview(filled.buffers()[2])[offsets[0] : offsets[-1]] if len(filled) else b""
    elif pa.types.is_boolean(kind):
        yield pc.fill_null(array, False).to_numpy(zero_copy_only=False).tobytes()
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind):
        width = kind.bit_width
        as_int = array.view(
            pa.int64() if width == 64 else pa.int32() if width == 32 else pa.int16() if width == 16 else pa.int8()
        )
        yield pc.fill_null(as_int, 0).to_numpy(zero_copy_only=False).tobytes()
    else:
        yield "\x1f".join(repr(v) for v in array.to_pylist()).encode()


def manifest_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.manifest.json")


def output_format(output: t.Union[str, Path], fmt: t.Optional[str] = None) -> str:
    """The format a training set is written in (given, else from the extension); checked before any work."""
    from seeknal_sqlmesh.cli_kit import output_format as chosen_format

    chosen = chosen_format(fmt, Path(output))
    if chosen not in FORMATS:
        raise FeatureStoreError(
            f"{output}: a training set is written as {', '.join(FORMATS)}, not {chosen}",
            "name the file .parquet (the manifest is embedded), .csv or .json",
        )
    return chosen


def write_training_set(
    table: pa.Table, manifest: t.Dict[str, t.Any], output: t.Union[str, Path], fmt: t.Optional[str] = None
) -> Path:
    """Write the rows (Parquet with the manifest embedded, CSV or JSON; through the one writer of `cli_kit`) and
    the JSON sidecar; returns the sidecar."""
    from seeknal_sqlmesh.cli_kit import emit

    output = Path(output).resolve()
    text = json.dumps(manifest, indent=2, sort_keys=True)
    emit(table, output_format(output, fmt), output, metadata={PARQUET_KEY.decode(): text})
    sidecar = manifest_path(output)
    sidecar.write_text(text + "\n")
    return sidecar


def read_manifest(path: t.Union[str, Path]) -> t.Dict[str, t.Any]:
    """A training-set manifest from its JSON sidecar, or from a training set: a Parquet one carries it in its
    metadata, a CSV or JSON one has it in the sidecar next to it."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FeatureStoreError(f"{path}: no such manifest")
    sidecar = manifest_path(path)
    if path.suffix.lower() in (".csv", ".json") and not path.name.endswith(".manifest.json") and sidecar.is_file():
        path = sidecar
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        if PARQUET_KEY not in meta:
            raise FeatureStoreError(f"{path}: this Parquet file carries no training-set manifest")
        text = meta[PARQUET_KEY].decode()
    else:
        text = path.read_text()
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as e:
        raise FeatureStoreError(f"{path}: not a training-set manifest (invalid JSON: {e})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise FeatureStoreError(f"{path}: not a training-set manifest (written by `seeknal features historical`)")
    if manifest.get("version") != MANIFEST_VERSION:
        raise FeatureStoreError(
            f"{path}: manifest version {manifest.get('version')} is not supported (this seeknal-sqlmesh reads {MANIFEST_VERSION})"
        )
    return manifest
