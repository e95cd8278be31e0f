"""`seeknal starrocks setup-catalog`, `seeknal deploy-metrics` and `seeknal repl`: argument parsing only.

The options follow `cli_kit`: `-p/--project` takes a Seeknal project or its translated output (profiles.yml and the
semantic YAML are read from the Seeknal project, SQLMesh state from the translation), `--env` is the SQLMesh
environment, list options are comma-separated, data goes through `--format`/`-o`. Errors are `SeeknalError`s, printed
by `cli_kit.SeeknalGroup` (exit 2; 1 when statements ran and failed). Printed SQL never contains a secret's value.
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import click

from seeknal_sqlmesh import cli_kit
from seeknal_sqlmesh.cli_kit import SeeknalGroup, env_option, output_options, split_list
from seeknal_sqlmesh.errors import SeeknalError
from seeknal_sqlmesh.starrocks.errors import CommandError

if t.TYPE_CHECKING:
    from seeknal_sqlmesh.contract import ProjectPaths

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


# these commands read only the Seeknal project's profiles.yml and semantic YAML: it need not be translated yet
project_option = cli_kit.project_option(translated=False)


PROFILE = click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="profiles.yml to use instead of the Seeknal project's.",
)
CONNECTION = click.option("--connection", required=True, help="A `starrocks:` connection of profiles.yml.")


@click.group(cls=SeeknalGroup)
def starrocks() -> None:
    """StarRocks: external catalogs (the gateway itself is `type: starrocks` in the translated settings.yaml)."""


@starrocks.command("setup-catalog")
@CONNECTION
@project_option
@PROFILE
@click.option("--catalog", "name", default="lakehouse", show_default=True, help="Name of the external catalog.")
@click.option("--execute", is_flag=True, help="Run the statement on the connection (default: print it).")
def setup_catalog(connection: str, project: ProjectPaths, profile: t.Optional[Path], name: str, execute: bool) -> None:
    """Render (or run with --execute) CREATE EXTERNAL CATALOG for the Iceberg REST catalog (Lakekeeper).

    URI and warehouse come from profiles.yml; OAuth2 and S3 credentials from the environment (LAKEKEEPER_CREDENTIAL
    or LAKEKEEPER_CLIENT_ID + LAKEKEEPER_CLIENT_SECRET, KEYCLOAK_TOKEN_URL, AWS_ENDPOINT_URL, AWS_REGION,
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Printed SQL shows secrets as ${VARIABLE}."""
    from seeknal_sqlmesh.starrocks import client
    from seeknal_sqlmesh.starrocks.ddl import catalog_statement

    prof, settings = client.resolve_connection(project, connection, profile)
    statement = catalog_statement(prof, name)
    click.echo(statement.shown + ";")
    if execute:
        with cli_kit.progress(f"Creating catalog {name} on {connection}"):
            client.execute(settings, [statement])
        click.echo(f"-- created catalog {name} on {connection} ({settings['host']}:{settings['port']})", err=True)


def _properties(values: t.Sequence[str]) -> t.Dict[str, str]:
    out: t.Dict[str, str] = {}
    for item in split_list(values):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"--property '{item}' is not key=value", "for example --property replication_num=1")
        out[key.strip()] = value.strip()
    return out


@click.command("deploy-metrics")
@CONNECTION
@project_option
@click.option(
    "--semantic",
    "semantic_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Semantic YAML (a folder or file); default: the project's.",
)
@PROFILE
@click.option(
    "--metric", "metrics", multiple=True, help="Metrics to deploy, comma-separated (default: every non-cumulative one)."
)
@click.option(
    "--dimensions",
    "dimension_sets",
    multiple=True,
    help="Comma-separated group-by set; one MV per metric and set (repeatable; default: no group-by).",
)
@click.option("--refresh", default="1 DAY", show_default=True, help="'<n> <unit>' for REFRESH ASYNC EVERY, or MANUAL.")
@click.option("--partition-by", "partition_by", default=None, help="MV columns to partition by, comma-separated.")
@click.option("--distributed-by", "distributed_by", default=None, help="MV columns to hash-distribute by.")
@click.option("--buckets", type=click.IntRange(min=1), default=None, help="Number of buckets (DISTRIBUTED BY).")
@click.option("--order-by", "order_by", default=None, help="MV columns to sort by, comma-separated.")
@click.option(
    "--property", "properties", multiple=True, help="MV property key=value, comma-separated (e.g. replication_num=1)."
)
@click.option("--drop-existing", is_flag=True, help="DROP MATERIALIZED VIEW IF EXISTS before each CREATE.")
@click.option("--dry-run", is_flag=True, help="Print the statements; run nothing.")
def deploy_metrics(
    connection: str,
    project: ProjectPaths,
    semantic_path: t.Optional[Path],
    profile: t.Optional[Path],
    metrics: t.Sequence[str],
    dimension_sets: t.Sequence[str],
    refresh: str,
    partition_by: t.Optional[str],
    distributed_by: t.Optional[str],
    buckets: t.Optional[int],
    order_by: t.Optional[str],
    properties: t.Sequence[str],
    drop_existing: bool,
    dry_run: bool,
) -> None:
    """Create one StarRocks async materialized view per metric (and dimension set) from the semantic layer."""
    from seeknal_sqlmesh.semantic import SemanticLayer
    from seeknal_sqlmesh.starrocks import client
    from seeknal_sqlmesh.starrocks.ddl import MVSettings, deployable_metrics, metric_statements

    _, settings = client.resolve_connection(project, connection, profile)
    mv = MVSettings(
        refresh=refresh,
        partition_by=split_list(partition_by),
        distributed_by=split_list(distributed_by),
        buckets=buckets,
        order_by=split_list(order_by),
        properties=_properties(properties),
    )
    try:
        layer = SemanticLayer.load(semantic_path or project.seeknal or project.translated)
    except SeeknalError:
        raise
    except Exception as e:  # definition problems are reported by the semantic layer with file and field
        raise CommandError(str(e)) from None
    asked = split_list(metrics)
    chosen, skipped = deployable_metrics(layer)
    unknown = sorted(set(asked) - set(layer.metrics()))
    if unknown:
        raise CommandError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(layer.metrics())})")
    chosen = asked or chosen
    for name in skipped:
        if not asked:
            click.echo(f"-- skipped cumulative metric {name}", err=True)

    def skip(metric: str, group_by: t.Sequence[str], error: Exception) -> None:
        click.echo(f"-- skipped {metric} by ({', '.join(group_by)}): {error}", err=True)

    try:  # metrics asked for by name must all deploy; by default the ones that cannot are skipped, with the reason
        statements = metric_statements(
            layer,
            chosen,
            [split_list(s) for s in dimension_sets],
            settings.get("database"),
            mv,
            drop_existing,
            on_error=None if asked else skip,
        )
    except SeeknalError:
        raise
    except Exception as e:
        raise CommandError(str(e)) from None
    if not statements:
        raise CommandError("no metric could be deployed with these dimensions")
    for statement in statements:
        click.echo(statement.shown + ";")
    if not dry_run:
        with cli_kit.progress(f"Deploying {len(statements)} statement(s) on {connection}"):
            client.execute(settings, statements)
        click.echo(f"-- deployed {len(chosen)} metric(s) on {connection}", err=True)


@click.command("repl")
@project_option
@click.option(
    "--connection", default=None, help="A `starrocks:` connection of profiles.yml instead of the embedded DuckDB."
)
@PROFILE
@env_option
@click.option("--exec", "statements", default=None, help="Run these statements, print the results and exit.")
@output_options
def repl(
    project: ProjectPaths,
    connection: t.Optional[str],
    profile: t.Optional[Path],
    env: str,
    statements: t.Optional[str],
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Interactive SQL (history, multi-line until ';', tables) on the project's DuckDB warehouse or on StarRocks.

    With --exec (or statements on stdin) it runs them and exits: 1 when a statement failed."""
    from seeknal_sqlmesh.starrocks.errors import StatementsFailed
    from seeknal_sqlmesh.starrocks.repl import Printer, interactive, open_session, run_script

    prompting = statements is None and sys.stdin.isatty()
    if prompting and output is not None:
        raise CommandError("-o writes the result of --exec, not of the interactive prompt", "add --exec 'SELECT ...'")
    cli_kit.output_format(output_format, output)  # an unknown file extension is refused before anything runs
    printer = Printer(output_format, output)
    session = open_session(project, connection=connection, profile=profile, env=env)
    try:
        if prompting:
            interactive(session, printer)
            return
        failed, total = run_script(session, sys.stdin.read() if statements is None else statements, printer)
        if failed:
            raise StatementsFailed(f"{failed} of {total} statement{'s' if total != 1 else ''} failed")
        printer.finish()
    finally:
        session.close()
