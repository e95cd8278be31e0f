"""The `seeknal` command: argument parsing only; every command calls a library function."""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import click
import yaml

from seeknal_sqlmesh.errors import ProjectError


def _fail(error: ProjectError) -> t.NoReturn:
    click.echo(str(error), err=True)
    sys.exit(error.exit_code)


@click.group()
@click.version_option(package_name="seeknal-sqlmesh")
def cli() -> None:
    """Seeknal on SQLMesh: translate Seeknal projects and use their features and metrics."""


@cli.command()
@click.argument("project", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="SQLMesh project folder to write.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the output is stale.")
@click.option("--params", "params_json", default=None, help="JSON object of {{ }} values, like `seeknal run --params`.")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML merged over the generated SQLMesh settings (gateways, model_defaults, ...).",
)
@click.option(
    "--profile", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="profiles.yml to use."
)
@click.option("--env", default=None, help="Use profiles-<env>.yml, like `seeknal run --env`.")
@click.option(
    "--start",
    default="2000-01-01",
    show_default=True,
    help="First date SQLMesh backfills incremental models from (early by default so no history is skipped).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def translate(project, output, check, params_json, settings_file, profile, env, start, quiet) -> None:
    """Translate the Seeknal PROJECT into a SQLMesh project."""
    from rich.progress import Progress

    from seeknal_sqlmesh.translators import translate_project

    try:
        params = json.loads(params_json) if params_json else None
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not JSON: {e}", param_hint="--params")
    overrides = yaml.safe_load(settings_file.read_text()) if settings_file else None
    with Progress(transient=True, disable=quiet) as bar:
        task = bar.add_task("Translating", total=None)

        def progress(done: int, total: int, node_id: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Translating {node_id}")

        try:
            result = translate_project(
                project,
                output,
                check=check,
                params=params,
                settings_overrides=overrides,
                profile=profile,
                env=env,
                start=start,
                progress=progress,
            )
        except ProjectError as e:
            _fail(e)
    if not quiet:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    if check:
        if result.stale:
            click.echo(f"{output} is stale; these files would change:", err=True)
            for path in result.stale:
                click.echo(f"  {path}", err=True)
            sys.exit(1)
        if not quiet:
            click.echo(f"{output} is up to date ({len(result.files)} files).")
        return
    if not quiet:
        click.echo(
            f"Translated {len(result.project.nodes)} Seeknal nodes into {result.model_count} SQLMesh models in {output}"
        )
        click.echo(f"Next: sqlmesh -p {output} plan")


cli.add_command(
    __import__("seeknal_sqlmesh.semantic.cli", fromlist=["query"]).query
)  # `seeknal query` (semantic layer)


from seeknal_sqlmesh.starrocks import cli as _starrocks_cli  # noqa: E402  (StarRocks plugin commands)

cli.add_command(_starrocks_cli.starrocks)  # seeknal starrocks setup-catalog
cli.add_command(_starrocks_cli.deploy_metrics)  # seeknal deploy-metrics
cli.add_command(_starrocks_cli.repl)  # seeknal repl

cli.add_command(
    __import__("seeknal_sqlmesh.features.cli", fromlist=["features"]).features
)  # seeknal features list|show|historical|online


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
