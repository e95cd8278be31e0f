"""The `seeknal` command: argument parsing only; every command calls a library function.

The core adds `translate`; every other command comes from a plugin (`plugins.py`). The options follow one style
(`cli_kit.py`, README "Command-line style").
"""

from __future__ import annotations

import contextlib
import json
import typing as t
from pathlib import Path

import click
import yaml

from seeknal_sqlmesh import plugins
from seeknal_sqlmesh.cli_kit import SeeknalGroup
from seeknal_sqlmesh.contract import Layout, default_output
from seeknal_sqlmesh.errors import CheckFailed, SeeknalError


@click.group(cls=SeeknalGroup)
@click.version_option(package_name="seeknal-sqlmesh")
def cli() -> None:
    """Seeknal on SQLMesh: translate Seeknal projects and use their features and metrics."""


@cli.command()
@click.argument("project", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"SQLMesh project folder to write. Default: PROJECT/{Layout.DEFAULT_OUTPUT}.",
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
@click.option(
    "--profiles-env",
    "profiles_env",
    default=None,
    help="Use profiles-<NAME>.yml (what `seeknal run --env NAME` does in Seeknal 2.13).",
)
@click.option(
    "--start",
    default="2000-01-01",
    show_default=True,
    help="First date SQLMesh backfills incremental models from (early by default so no history is skipped).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def translate(
    project: Path,
    output: t.Optional[Path],
    check: bool,
    params_json: t.Optional[str],
    settings_file: t.Optional[Path],
    profile: t.Optional[Path],
    profiles_env: t.Optional[str],
    start: str,
    quiet: bool,
) -> None:
    """Translate the Seeknal PROJECT (default: .) into a SQLMesh project."""
    try:
        params = json.loads(params_json) if params_json else None
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not JSON: {e}", param_hint="--params") from None
    try:
        overrides = yaml.safe_load(settings_file.read_text()) if settings_file else None
    except yaml.YAMLError as e:
        raise SeeknalError(f"{settings_file}: not valid YAML ({e})", "fix the settings file") from None
    output = output or default_output(project)
    if check:  # nothing changed since the last translation: answer from its record, without loading SQLMesh
        from seeknal_sqlmesh import fingerprint

        options = fingerprint.translate_options(params, overrides, profile, profiles_env, start)
        recorded = fingerprint.unchanged(project, output, options)
        if recorded is not None:
            if not quiet:
                for text in recorded.warnings:
                    click.echo(f"warning: {text}", err=True)
                click.echo(f"{output} is up to date ({recorded.files} files).")
            return
    from rich.progress import Progress

    from seeknal_sqlmesh.translators import translate_project
    from seeknal_sqlmesh.translators.publish import project_lock

    # one translation at a time per project, held from reading the project to the swap (--check writes nothing)
    lock = contextlib.nullcontext() if check else project_lock(output)
    with lock, Progress(transient=True, disable=quiet) as bar:
        task = bar.add_task("Translating", total=None)

        def progress(done: int, total: int, node_id: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Translating {node_id}")

        result = translate_project(
            project,
            output,
            check=check,
            params=params,
            settings_overrides=overrides,
            profile=profile,
            profiles_env=profiles_env,
            start=start,
            progress=progress,
        )
    if not quiet:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
    if check:
        if result.stale:
            raise CheckFailed(
                f"{output} is stale; these files would change:\n" + "\n".join(f"  {p}" for p in result.stale),
                f"run `seeknal translate {project} -o {output}`",
            )
        if not quiet:
            click.echo(f"{output} is up to date ({len(result.files)} files).")
        return
    if not quiet:
        click.echo(
            f"Translated {len(result.project.nodes)} Seeknal nodes into {result.model_count} SQLMesh models in {output}"
        )
        click.echo(f"Next: sqlmesh -p {output} plan")


def _add_plugin_commands(group: click.Group) -> None:
    for plugin in plugins.plugins():
        for command in plugin.commands():
            group.add_command(command)


_add_plugin_commands(cli)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
