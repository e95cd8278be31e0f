"""`seeknal features ...`: argument parsing and printing only; the work is done by `seeknal_sqlmesh.features.store`.

The options follow the one CLI style (`cli_kit`): `-p/--project` takes a Seeknal project or its translated output,
`--env` is the SQLMesh environment, and every command that prints data takes `--format table|csv|json|parquet` and
`-o/--output FILE`. Problems are `FeatureStoreError`s, which the `seeknal` group prints for people (exit code 2).
"""

from __future__ import annotations

import contextlib
import json
import typing as t
from datetime import datetime
from pathlib import Path

import click

from seeknal_sqlmesh.cli_kit import (
    SeeknalGroup,
    emit,
    env_option,
    output_format,
    output_options,
    progress,
    project_option,
    split_list,
)
from seeknal_sqlmesh.features.durations import TTL
from seeknal_sqlmesh.features.errors import FeatureStoreError

if t.TYPE_CHECKING:
    import pyarrow as pa

    from seeknal_sqlmesh.contract import ProjectPaths
    from seeknal_sqlmesh.features.store import FeatureStore


@contextlib.contextmanager
def _store(project: ProjectPaths, env: str, doing: str) -> t.Iterator[FeatureStore]:
    """The feature store, with a spinner while SQLMesh's state and the engine are read."""
    from seeknal_sqlmesh.features.store import FeatureStore

    with progress(doing), FeatureStore(project.translated, env) as store:
        yield store


def _env_given(ctx: click.Context) -> bool:
    return ctx.get_parameter_source("env") is not click.core.ParameterSource.DEFAULT


def _table(columns: t.Sequence[t.Tuple[str, str]], rows: t.Sequence[t.Sequence[t.Any]]) -> pa.Table:
    """Rows with declared types (Arrow type names): empty or all-NULL columns keep their type in every format."""
    import pyarrow as pa  # here, not at import: every `seeknal` command imports this module

    schema = pa.schema([(name, pa.type_for_alias(type_name)) for name, type_name in columns])
    return pa.Table.from_pylist([dict(zip(schema.names, row, strict=True)) for row in rows], schema=schema)


@click.group("features", cls=SeeknalGroup)
def features() -> None:
    """Feature store of a Seeknal project (or its translated output): registry, training sets, online values."""


# ---- list, show ----------------------------------------------------------------------------------------------------

GROUP_COLUMNS = [
    ("feature_group", "string"),
    ("entity", "string"),
    ("join_keys", "string"),
    ("event_time", "string"),
    ("features", "int64"),
    ("online", "bool"),
    ("online_ttl", "string"),
    ("owner", "string"),
    ("model", "string"),
    ("environment", "string"),
    ("fingerprint", "string"),
    ("processed_until", "timestamp[us]"),
]
ENTITY_COLUMNS = [
    ("entity", "string"),
    ("join_keys", "string"),
    ("description", "string"),
    ("feature_groups", "string"),
    ("entity_view", "string"),
]


def _groups_table(store: FeatureStore, envs: t.Optional[t.Sequence[str]]) -> pa.Table:
    """One row per feature group and environment serving it (one row with no environment when none does)."""
    groups = store.registry.groups.values()
    versions = store.versions([g.model for g in groups], envs)
    rows = []
    for g in groups:
        about = [g.name, g.entity, ", ".join(g.join_keys), g.event_time, len(g.features), g.online, g.online_ttl]
        about += [g.owner, g.model]
        served = versions[g.model]
        if not served:
            rows.append([*about, None, None, None])
        for env, ref in served.items():
            rows.append([*about, env, ref.identifier, ref.processed_until])
    return _table(GROUP_COLUMNS, rows)


def _entities_table(store: FeatureStore) -> pa.Table:
    rows = [
        [e.name, ", ".join(e.join_keys), e.description, ", ".join(e.feature_groups), e.view]
        for e in store.registry.entities.values()
    ]
    return _table(ENTITY_COLUMNS, rows)


@features.command("list")
@project_option
@env_option
@click.option("--entities", "list_entities", is_flag=True, help="List the entities instead of the feature groups.")
@output_options
@click.pass_context
def list_(
    ctx: click.Context,
    project: ProjectPaths,
    env: str,
    list_entities: bool,
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Feature groups, with the snapshot serving each in every environment (only in --env when it is given)."""
    fmt = _format(output_format, output)
    with _store(project, env, "Reading SQLMesh state") as store:
        entities = _entities_table(store)
        groups = None if list_entities else _groups_table(store, [env] if _env_given(ctx) else None)
    if groups is None:
        emit(entities, fmt, output, title="Entities")
        return
    if fmt == "table" and output is None:  # at the terminal: the entities too, as a reminder of the keys
        emit(entities, fmt, title="Entities")
    emit(groups, fmt, output, title="Feature groups")


FEATURE_COLUMNS = [
    ("feature", "string"),
    ("type", "string"),
    ("dtype", "string"),
    ("declared", "bool"),
    ("description", "string"),
]
MEMBER_COLUMNS = [
    ("feature_group", "string"),
    ("event_time", "string"),
    ("features", "int64"),
    ("online", "bool"),
    ("online_ttl", "string"),
    ("model", "string"),
]


@features.command()
@click.argument("name")
@project_option
@env_option
@output_options
@click.pass_context
def show(
    ctx: click.Context,
    name: str,
    project: ProjectPaths,
    env: str,
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """One feature group (its features, with types from --env) or entity (its feature groups), and versions."""
    fmt = _format(output_format, output)
    with _store(project, env, "Reading SQLMesh state") as store:
        if _env_given(ctx):  # types come from --env: refuse one that does not exist (not planned yet is fine)
            store.tables()
        info = store.describe(name)
        if info["kind"] == "entity":
            members = [store.registry.groups[g] for g in info["feature_groups"]]
            rows = [[g.name, g.event_time, len(g.features), g.online, g.online_ttl, g.model] for g in members]
            data, title = _table(MEMBER_COLUMNS, rows), "Feature groups"
        else:
            rows = [[f["name"], f["type"], f["dtype"], f["declared"], f["description"]] for f in info["features"]]
            data, title = _table(FEATURE_COLUMNS, rows), "Features"
    if fmt == "table" and output is None:
        for line in _header(info):
            click.echo(line)
    emit(data, fmt, output, title=title)


def _header(info: t.Dict[str, t.Any]) -> t.List[str]:
    """What `show` prints above its table at the terminal."""
    if info["kind"] == "entity":
        lines = [f"entity {info['name']}: join keys {', '.join(info['join_keys'])}"]
        if info["description"]:
            lines.append(f"  {info['description']}")
        lines.append(f"  entity view: {info['view'] or '-'}")
        lines += [
            f"    {env}: fingerprint {v['fingerprint']}, table {v['table']}" for env, v in info["environments"].items()
        ]
        return lines
    lines = [f"feature group {info['name']} ({info['file']})"]
    if info["description"]:
        lines.append(f"  {info['description']}")
    lines.append(
        f"  entity: {info['entity']} (join keys {', '.join(info['join_keys'])}), event time: {info['event_time']}"
    )
    lines.append(
        f"  owner: {info['owner'] or '-'}; online: {'yes' if info['online'] else 'no'}"
        + (f", ttl {info['online_ttl']}" if info["online_ttl"] else "")
        + (f" ({info['latest_model']})" if info["latest_model"] else "")
    )
    lines.append(f"  SQLMesh model: {info['model']}")
    lines += [
        f"    {env}: fingerprint {v['fingerprint']}, version {v['version']}, table {v['table']}, "
        f"processed until {v['processed_until'] or '-'}"
        for env, v in info["environments"].items()
    ]
    if not info["environments"]:
        lines.append("    not in any environment yet: run `sqlmesh plan`")
    return lines


def _format(fmt: t.Optional[str], output: t.Optional[Path]) -> str:
    """The output format, checked before any work (a bad -o extension fails fast)."""
    chosen = output_format(fmt, output)
    if chosen == "parquet" and output is None:
        raise FeatureStoreError("Parquet is binary and is not printed", "write it to a file with -o FILE.parquet")
    return chosen


# ---- historical ----------------------------------------------------------------------------------------------------


def _ttl_option(values: t.Sequence[str]) -> t.Union[TTL, t.Dict[str, TTL]]:
    """`30d` for every group, or `group=7d,other=1d`."""
    items = split_list(values)
    if not items:
        return None
    if len(items) == 1 and "=" not in items[0]:
        return items[0]
    pairs: t.Dict[str, TTL] = {}
    for item in items:
        group, sep, value = item.partition("=")
        if not sep:
            raise FeatureStoreError(
                f"--ttl {item!r}: not a group=duration pair", "give one duration (30d) or group=duration pairs"
            )
        pairs[group.strip()] = value.strip()
    return pairs


@features.command()
@project_option(required=False)  # with --replay, the project the manifest names
@env_option
@click.option(
    "--spine",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Spine file (.parquet or .csv): entity keys and a time column.",
)
@click.option(
    "--features", "feature_refs", multiple=True, help="group.feature or group.* (comma-separated or repeated)."
)
@click.option(
    "--as-of-column",
    default=None,
    help="The spine's time column (default: event_time, or its only date/timestamp column).",
)
@click.option("--ttl", multiple=True, help="Ignore values older than this (30d), or per group: group=7d,other=1d.")
@click.option("--full-feature-names", is_flag=True, help="Name output columns <group>__<feature>.")
@click.option(
    "--form", type=click.Choice(["asof", "portable"]), default=None, help="SQL form (default: asof on DuckDB)."
)
@click.option(
    "--replay",
    "replay",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rebuild the training set a manifest describes (the .manifest.json, or the training set next to it).",
)
@output_options
@click.pass_context
def historical(
    ctx: click.Context,
    project: t.Optional[ProjectPaths],
    env: str,
    spine: t.Optional[Path],
    feature_refs: t.Sequence[str],
    as_of_column: t.Optional[str],
    ttl: t.Sequence[str],
    full_feature_names: bool,
    form: t.Optional[str],
    replay: t.Optional[Path],
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Point-in-time training set: every feature as of each spine row's time.

    With -o FILE (.parquet, .csv or .json) the rows are written with a reproducibility manifest (FILE's stem +
    .manifest.json, and inside the Parquet file); without it they are printed.
    """
    from seeknal_sqlmesh.contract import find_project
    from seeknal_sqlmesh.features import training

    if output is not None:
        training.output_format(output, output_format)  # a wrong file name fails before any work
    elif output_format is not None:
        _format(output_format, output)
    if replay is not None:
        if feature_refs or ttl or as_of_column or full_feature_names or form or _env_given(ctx):
            raise FeatureStoreError(
                "--replay rebuilds exactly what the manifest recorded",
                "drop --features/--ttl/--as-of-column/--full-feature-names/--form/--env",
            )
        recorded = training.read_manifest(replay)
        paths = project or find_project(recorded["project"])
        with _store(paths, recorded["environment"], "Replaying the training set") as store:
            result = store.replay(recorded, spine=spine, output=output, output_format=output_format)
        summary = [
            f"Replayed {replay}: {result.table.num_rows} rows, identical to the recorded training set "
            f"(sha256 {result.manifest['output']['sha256'][:12]})."
        ]
        if result.path:
            summary.append(f"Wrote {result.path} and {result.manifest_path}")
        _finish(result.table, summary, output_format, output, verify_only=output_format is None)
        return
    if spine is None or not feature_refs:
        raise FeatureStoreError("give --spine and --features", "or rebuild a training set with --replay MANIFEST")
    with _store(project or find_project(None), env, "Building the training set") as store:
        result = store.historical(
            spine,
            split_list(feature_refs),
            as_of_column=as_of_column,
            ttl=_ttl_option(ttl),
            full_feature_names=full_feature_names,
            form=form,
            output=output,
            output_format=output_format,
        )
    groups = ", ".join(f"{g}@{e['identifier']}" for g, e in result.manifest["feature_groups"].items())
    summary = [f"Built {result.table.num_rows} rows x {result.table.num_columns} columns"]
    if result.path:
        summary = [
            f"Wrote {result.table.num_rows} rows x {result.table.num_columns} columns to {result.path}",
            f"Manifest {result.manifest_path} (environment {result.manifest['environment']}; {groups})",
        ]
    else:
        summary.append(f"(environment {result.manifest['environment']}; {groups}); no manifest: write with -o FILE")
    _finish(result.table, summary, output_format, output)


def _finish(
    table: pa.Table,
    summary: t.Sequence[str],
    fmt: t.Optional[str],
    output: t.Optional[Path],
    verify_only: bool = False,
) -> None:
    """Written to a file (or a replay only checked): the summary. Otherwise the rows on stdout, the summary on
    stderr so the rows stay clean to pipe."""
    if output is not None or verify_only:
        for line in summary:
            click.echo(line)
        return
    emit(table, fmt, None, title="Training set")
    for line in summary:
        click.echo(line, err=True)


# ---- online --------------------------------------------------------------------------------------------------------


def _keys(values: t.Sequence[str]) -> t.List[t.Any]:
    """`--keys a,b` (one join key) or `--keys '[{"store": "s1", "shelf": 1}]'` (JSON, for several join keys)."""
    parsed: t.List[t.Any] = []
    for value in values:
        if value.strip().startswith("["):
            try:
                keys = json.loads(value)
            except json.JSONDecodeError as e:
                raise FeatureStoreError(
                    f"--keys {value!r}: not a JSON list ({e})", 'write e.g. --keys \'[{"store": "s1", "shelf": 1}]\''
                ) from None
            parsed += keys if isinstance(keys, list) else [keys]
        else:
            parsed += split_list(value)
    return parsed


def _moment(as_of: t.Optional[str]) -> t.Optional[datetime]:
    if not as_of:
        return None
    try:
        return datetime.fromisoformat(as_of)
    except ValueError:
        raise FeatureStoreError(
            f"--as-of {as_of!r}: not a date or timestamp", "write e.g. 2024-04-01 or 2024-04-01T12:00"
        ) from None


@features.command()
@project_option
@env_option
@click.option("--entity", required=True, help="Entity whose keys are given.")
@click.option(
    "--keys",
    "keys",
    multiple=True,
    required=True,
    help="Key values, comma-separated; for several join keys a JSON list of objects.",
)
@click.option(
    "--features",
    "feature_refs",
    multiple=True,
    help="group.feature or group.* (default: every online feature of the entity).",
)
@click.option("--ttl", default=None, help="Override the groups' declared online TTL (e.g. 7d, or 'none').")
@click.option(
    "--as-of", "as_of", default=None, help="Reference time for TTLs (default: now, UTC), e.g. 2024-04-01T12:00."
)
@click.option("--full-feature-names", is_flag=True, help="Name output columns <group>__<feature>.")
@output_options
def online(
    project: ProjectPaths,
    env: str,
    entity: str,
    keys: t.Sequence[str],
    feature_refs: t.Sequence[str],
    ttl: t.Optional[str],
    as_of: t.Optional[str],
    full_feature_names: bool,
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Latest value per key (from the latest-value models a plan/run keeps up to date), in the order of --keys."""
    fmt = _format(output_format, output)
    parsed, moment = _keys(keys), _moment(as_of)
    with _store(project, env, "Reading online values") as store:
        table = store.online_table(
            entity,
            parsed,
            split_list(feature_refs) or None,
            ttl="declared" if ttl is None else ttl,
            as_of=moment,
            full_feature_names=full_feature_names,
        )
    emit(table, fmt, output, title=f"Online values of {entity}")
