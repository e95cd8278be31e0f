"""`seeknal starrocks setup-catalog`, `seeknal deploy-metrics` and `seeknal repl`: argument parsing only.

Problems a person can fix exit with code 2 and one message; printed SQL never contains a secret's value.
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import click

PROJECT = click.option(
    "-p",
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The Seeknal project (its profiles.yml names the connections).",
)
PROFILE = click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="profiles.yml to use instead of the project's.",
)
CONNECTION = click.option("--connection", required=True, help="A `starrocks:` connection of profiles.yml.")


def _fail(message: str) -> t.NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group()
def starrocks() -> None:
    """StarRocks: external catalogs (the gateway itself is `type: starrocks` in the translated settings.yaml)."""


@starrocks.command("setup-catalog")
@CONNECTION
@PROJECT
@PROFILE
@click.option("--catalog", "name", default="lakehouse", show_default=True, help="Name of the external catalog.")
@click.option("--execute", is_flag=True, help="Run the statement on the connection (default: print it).")
def setup_catalog(connection, project, profile, name, execute) -> None:
    """Render (or run with --execute) CREATE EXTERNAL CATALOG for the Iceberg REST catalog (Lakekeeper).

    URI and warehouse come from profiles.yml; OAuth2 and S3 credentials from the environment (LAKEKEEPER_CREDENTIAL
    or LAKEKEEPER_CLIENT_ID + LAKEKEEPER_CLIENT_SECRET, KEYCLOAK_TOKEN_URL, AWS_ENDPOINT_URL, AWS_REGION,
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Printed SQL shows secrets as ${VARIABLE}."""
    from seeknal_sqlmesh.starrocks.ddl import CommandError, catalog_statement, resolve_connection
    from seeknal_sqlmesh.starrocks.ddl import execute as run

    try:
        prof, settings = resolve_connection(project, connection, profile)
        statement = catalog_statement(prof, name)
        click.echo(statement.shown + ";")
        if execute:
            run(settings, [statement])
            click.echo(f"-- created catalog {name} on {connection} ({settings['host']}:{settings['port']})", err=True)
    except CommandError as e:
        _fail(str(e))


@click.command("deploy-metrics")
@CONNECTION
@click.option(
    "-p",
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The Seeknal project (profiles.yml and its semantic models and metrics).",
)
@click.option(
    "--semantic",
    "semantic_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Semantic YAML (a translated project or a folder); default: the project.",
)
@PROFILE
@click.option(
    "--metric", "metrics", multiple=True, help="Metric to deploy (repeatable; default: every non-cumulative metric)."
)
@click.option(
    "--dimensions",
    "dimension_sets",
    multiple=True,
    help="Comma-separated group-by set; one MV per metric and set (repeatable; default: no group-by).",
)
@click.option("--refresh", default="1 DAY", show_default=True, help="'<n> <unit>' for REFRESH ASYNC EVERY, or MANUAL.")
@click.option("--drop-existing", is_flag=True, help="DROP MATERIALIZED VIEW IF EXISTS before each CREATE.")
@click.option("--dry-run", is_flag=True, help="Print the statements; run nothing.")
def deploy_metrics(
    connection, project, semantic_path, profile, metrics, dimension_sets, refresh, drop_existing, dry_run
) -> None:
    """Create one StarRocks async materialized view per metric (and dimension set) from the semantic layer."""
    from seeknal_sqlmesh.starrocks.ddl import CommandError, deployable_metrics, metric_statements, resolve_connection
    from seeknal_sqlmesh.starrocks.ddl import execute as run

    try:
        from seeknal_sqlmesh.semantic import SemanticLayer

        _, settings = resolve_connection(project, connection, profile)
        try:
            layer = SemanticLayer.load(semantic_path or project)
        except Exception as e:  # definition problems are reported by the semantic layer with file and field
            raise CommandError(str(e)) from None
        chosen, skipped = deployable_metrics(layer)
        unknown = sorted(set(metrics) - set(layer.metrics()))
        if unknown:
            raise CommandError(f"unknown metric(s) {', '.join(unknown)} (known: {', '.join(layer.metrics())})")
        chosen = list(metrics) or chosen
        for name in skipped:
            if not metrics:
                click.echo(f"-- skipped cumulative metric {name}", err=True)
        dims = [[d.strip() for d in s.split(",") if d.strip()] for s in dimension_sets]

        def skip(metric: str, group_by: t.Sequence[str], error: Exception) -> None:
            click.echo(f"-- skipped {metric} by ({', '.join(group_by)}): {error}", err=True)

        try:  # metrics asked for by name must all deploy; by default the ones that cannot are skipped, with the reason
            statements = metric_statements(
                layer,
                chosen,
                dims,
                settings.get("database"),
                refresh,
                drop_existing,
                on_error=None if metrics else skip,
            )
        except CommandError:
            raise
        except Exception as e:
            raise CommandError(str(e)) from None
        if not statements:
            raise CommandError("no metric could be deployed with these dimensions")
        for statement in statements:
            click.echo(statement.shown + ";")
        if not dry_run:
            run(settings, statements)
            click.echo(f"-- deployed {len(chosen)} metric(s) on {connection}", err=True)
    except CommandError as e:
        _fail(str(e))


@click.command("repl")
@click.option(
    "-p",
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The translated SQLMesh project (its DuckDB warehouse), or the Seeknal project with --connection.",
)
@click.option(
    "--connection", default=None, help="A `starrocks:` connection of profiles.yml instead of the embedded DuckDB."
)
@PROFILE
@click.option("--env", default="prod", show_default=True, help="SQLMesh environment whose models the names point at.")
@click.option("--exec", "statements", default=None, help="Run these statements, print the results and exit.")
def repl(project, connection, profile, env, statements) -> None:
    """Interactive SQL (history, multi-line until ';', tables) on the project's DuckDB warehouse or on StarRocks."""
    from seeknal_sqlmesh.starrocks.repl import ReplError, interactive, open_session, run_script

    try:
        session = open_session(project, connection=connection, profile=profile, env=env)
    except ReplError as e:
        _fail(str(e))
    try:
        if statements is not None:
            sys.exit(0 if run_script(session, statements) else 2)
        interactive(session)
    finally:
        session.close()
