"""`seeknal features ...`: argument parsing and printing only; the work is done by `seeknal_sqlmesh.features.store`.

Every command points at a translated project with `-p/--project` (default: the current folder), like `sqlmesh -p`.
Problems are printed for people (what, and where) with exit code 2.
"""

from __future__ import annotations

import functools
import json
import sys
import typing as t
from datetime import datetime
from pathlib import Path

import click

from seeknal_sqlmesh.features.errors import FeatureStoreError


def _project_options(func: t.Callable) -> t.Callable:
    func = click.option("--env", default="prod", show_default=True, help="SQLMesh environment to read.")(func)
    func = click.option(
        "-p",
        "--project",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="The translated project (output of `seeknal translate`).",
    )(func)
    return func


def _friendly(func: t.Callable) -> t.Callable:
    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except FeatureStoreError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)

    return wrapper


def _store(project: Path, env: str):
    from seeknal_sqlmesh.features.store import FeatureStore

    return FeatureStore(project, env)


def _split(values: t.Sequence[str]) -> t.List[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _table(title: str, header: t.Sequence[str], rows: t.Sequence[t.Sequence[t.Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*header, title=title, title_justify="left")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    Console(width=200).print(table)


@click.group("features")
def features() -> None:
    """Feature store of a translated project: registry, point-in-time training sets, online values."""


@features.command("list")
@_project_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def list_(project: Path, env: str, as_json: bool) -> None:
    """Entities and feature groups, with the snapshot fingerprint serving each group per environment."""
    with _store(project, env) as store:
        overview = store.overview()
    if as_json:
        click.echo(json.dumps(overview, indent=2))
        return
    _table(
        "Entities",
        ["entity", "join keys", "feature groups", "entity view"],
        [
            (e["name"], ", ".join(e["join_keys"]), ", ".join(e["feature_groups"]), e["view"])
            for e in overview["entities"]
        ],
    )
    _table(
        "Feature groups",
        [
            "feature group",
            "entity",
            "event time",
            "features",
            "online (ttl)",
            "owner",
            "SQLMesh model",
            "fingerprint per environment",
        ],
        [
            (
                g["name"],
                g["entity"],
                g["event_time"],
                len(g["features"]),
                f"{'yes' if g['online'] else 'no'}" + (f" ({g['online_ttl']})" if g["online_ttl"] else ""),
                g["owner"],
                g["model"],
                ", ".join(f"{e}: {f}" for e, f in g["fingerprints"].items()) or "not planned",
            )
            for g in overview["feature_groups"]
        ],
    )


@features.command()
@click.argument("name")
@_project_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def show(name: str, project: Path, env: str, as_json: bool) -> None:
    """One entity or feature group: keys, event time, features with types and descriptions, versions."""
    with _store(project, env) as store:
        bare = name.split(".", 1)[1] if name.startswith("feature_group.") else name
        if bare in store.registry.groups:
            info = store.describe_group(bare)
        elif name in store.registry.entities:
            info = store.describe_entity(name)
        else:
            raise FeatureStoreError(
                f"'{name}' is neither an entity ({', '.join(store.registry.entities) or 'none'}) nor a "
                f"feature group ({', '.join(store.registry.groups) or 'none'}) of {store.root}"
            )
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    if "features" not in info:
        click.echo(f"entity {info['name']}: join keys {', '.join(info['join_keys'])}")
        if info["description"]:
            click.echo(f"  {info['description']}")
        click.echo(f"  feature groups: {', '.join(info['feature_groups'])}")
        click.echo(f"  entity view: {info['view'] or '-'}")
        for env_name, v in info["environments"].items():
            click.echo(f"    {env_name}: fingerprint {v['fingerprint']}, table {v['table']}")
        return
    click.echo(f"feature group {info['name']} ({info['file']})")
    if info["description"]:
        click.echo(f"  {info['description']}")
    click.echo(
        f"  entity: {info['entity']} (join keys {', '.join(info['join_keys'])}), event time: {info['event_time']}"
    )
    click.echo(
        f"  owner: {info['owner'] or '-'}; online: {'yes' if info['online'] else 'no'}"
        + (f", ttl {info['online_ttl']}" if info["online_ttl"] else "")
        + (f" ({info['latest_model']})" if info["latest_model"] else "")
    )
    click.echo(f"  SQLMesh model: {info['model']}")
    for env_name, v in info["environments"].items():
        click.echo(
            f"    {env_name}: fingerprint {v['fingerprint']}, version {v['version']}, table {v['table']}, "
            f"processed until {v['processed_until'] or '-'}"
        )
    if not info["environments"]:
        click.echo("    not in any environment yet: run `sqlmesh plan`")
    _table(
        "Features",
        ["feature", "type", "declared dtype", "description"],
        [
            (f["name"], f["type"], f["dtype"] if f["declared"] else "(not declared)", f["description"])
            for f in info["features"]
        ],
    )


def _ttl_option(values: t.Sequence[str]) -> t.Union[str, t.Dict[str, str], None]:
    """`30d` for every group, or `group=7d,other=1d`."""
    items = _split(values)
    if not items:
        return None
    if all("=" not in i for i in items) and len(items) == 1:
        return items[0]
    pairs = {}
    for item in items:
        group, sep, value = item.partition("=")
        if not sep:
            raise FeatureStoreError(f"--ttl {item!r}: give one duration (30d) or group=duration pairs")
        pairs[group.strip()] = value.strip()
    return pairs


@features.command()
@_project_options
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
    help="Rebuild the training set a manifest (or a training-set .parquet) describes.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Output .parquet or .csv."
)
@_friendly
def historical(
    project: Path,
    env: str,
    spine: t.Optional[Path],
    feature_refs: t.Sequence[str],
    as_of_column: t.Optional[str],
    ttl: t.Sequence[str],
    full_feature_names: bool,
    form: t.Optional[str],
    replay: t.Optional[Path],
    output: t.Optional[Path],
) -> None:
    """Point-in-time training set: every feature as of each spine row's time, with a reproducibility manifest."""
    from seeknal_sqlmesh.features import training

    if replay is not None:
        if feature_refs or ttl or as_of_column or full_feature_names or form:
            raise FeatureStoreError(
                "--replay rebuilds exactly what the manifest recorded: drop --features/--ttl/--as-of-column/--form"
            )
        recorded = training.read_manifest(replay)
        root = project if project != Path(".") else Path(recorded["project"])
        with _store(root, recorded["environment"]) as store:
            result = store.replay(recorded, spine=spine, output=output)
        click.echo(
            f"Replayed {replay}: {result.table.num_rows} rows, identical to the recorded training set "
            f"(sha256 {result.manifest['output']['sha256'][:12]})."
        )
        if result.path:
            click.echo(f"Wrote {result.path} and {result.manifest_path}")
        return
    if spine is None or not feature_refs or output is None:
        raise FeatureStoreError("give --spine, --features and -o/--output (or --replay MANIFEST)")
    with _store(project, env) as store:
        result = store.historical(
            spine,
            _split(feature_refs),
            as_of_column=as_of_column,
            ttl=_ttl_option(ttl),
            full_feature_names=full_feature_names,
            form=form,
            output=output,
        )
    groups = ", ".join(f"{g}@{e['identifier']}" for g, e in result.manifest["feature_groups"].items())
    click.echo(f"Wrote {result.table.num_rows} rows x {result.table.num_columns} columns to {result.path}")
    click.echo(f"Manifest {result.manifest_path} (environment {result.manifest['environment']}; {groups})")


@features.command()
@_project_options
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
@_friendly
def online(
    project: Path,
    env: str,
    entity: str,
    keys: t.Sequence[str],
    feature_refs: t.Sequence[str],
    ttl: t.Optional[str],
    as_of: t.Optional[str],
    full_feature_names: bool,
    as_json: bool,
) -> None:
    """Latest value per key (from the latest-value models a plan/run keeps up to date)."""
    parsed: t.List[t.Any] = []
    for value in keys:
        if value.strip().startswith("["):
            try:
                parsed += json.loads(value)
            except json.JSONDecodeError as e:
                raise FeatureStoreError(f"--keys {value!r}: not a JSON list ({e})")
        else:
            parsed += _split([value])
    moment = None
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            raise FeatureStoreError(f"--as-of {as_of!r}: not a date or timestamp (e.g. 2024-04-01 or 2024-04-01T12:00)")
    with _store(project, env) as store:
        frame = store.online(
            entity,
            parsed,
            _split(feature_refs) or None,
            ttl="declared" if ttl is None else ttl,
            as_of=moment,
            full_feature_names=full_feature_names,
        )
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso", indent=2))
    else:
        click.echo(frame.to_string(index=False))
