"""`seeknal query`: reads the options and calls `SemanticLayer`; printing and files go through `cli_kit`.

Where it runs: `--connection` (a DuckDB database), else the SQLMesh project `-p` points at (a Seeknal project or
its translated output), in environment `--env`. `--compile` and `--explain` need no database.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import click

from seeknal_sqlmesh.cli_kit import PROJECT_HELP, emit, env_option, output_options, progress, split_list
from seeknal_sqlmesh.cli_kit import output_format as choose_format
from seeknal_sqlmesh.contract import ContractError, ProjectPaths, find_project
from seeknal_sqlmesh.semantic.errors import QueryError


def _project(path: t.Optional[Path], must_be_translated: bool, why: str, hint: str = "") -> ProjectPaths:
    """`-p` resolved only when it is used (`--semantic` + `--connection` need no project)."""
    try:
        return find_project(path, must_exist=must_be_translated)
    except ContractError as e:
        raise QueryError(f"{why}: {e.message}", f"{e.hint}{hint}") from None


@click.command("query")
@click.option("--metrics", "metrics", multiple=True, help="Metrics, comma separated (repeatable).")
@click.option(
    "--dimensions",
    "--group-by",
    "group_by",
    multiple=True,
    help="Group-by names: metric_time__month, customer_id__segment, status, ... (comma separated).",
)
@click.option(
    "--filter", "--where", "where", multiple=True, help="A boolean SQL expression over dimension names (repeatable)."
)
@click.option("--order-by", "--order", "order_by", multiple=True, help="Output names; prefix '-' for descending.")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most N rows.")
@click.option("--start-time", default=None, help="First metric_time (inclusive), YYYY-MM-DD.")
@click.option("--end-time", default=None, help="Last metric_time (inclusive), YYYY-MM-DD.")
@env_option
@click.option(
    "--compare", "compare", default=None, help="Second environment: print both side by side with the difference."
)
@click.option("--compile", "compile_only", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--explain", is_flag=True, help="Print the SQL and the models and columns it reads.")
@click.option("--dialect", default=None, help="SQL dialect of --compile/--explain (duckdb, starrocks, postgres, ...).")
@output_options
@click.option(
    "--semantic",
    "semantic",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Semantic YAML files or folders (default: the project's).",
)
@click.option(
    "--connection",
    default=None,
    help="DuckDB database (path or duckdb:///path) to run on instead of the SQLMesh project.",
)
@click.option("-p", "--project", type=click.Path(path_type=Path), default=None, help=PROJECT_HELP)
def query(
    metrics: t.Tuple[str, ...],
    group_by: t.Tuple[str, ...],
    where: t.Tuple[str, ...],
    order_by: t.Tuple[str, ...],
    limit: t.Optional[int],
    start_time: t.Optional[str],
    end_time: t.Optional[str],
    env: str,
    compare: t.Optional[str],
    compile_only: bool,
    explain: bool,
    dialect: t.Optional[str],
    output_format: t.Optional[str],
    output: t.Optional[Path],
    semantic: t.Tuple[Path, ...],
    connection: t.Optional[str],
    project: t.Optional[Path],
) -> None:
    """Query metrics of the semantic layer (MetricFlow-style), in a SQLMesh environment."""
    from seeknal_sqlmesh.semantic.connection import sqlmesh_context
    from seeknal_sqlmesh.semantic.layer import SemanticLayer, project_semantic_paths

    request: t.Dict[str, t.Any] = {
        "metrics": split_list(metrics),
        "group_by": split_list(group_by),
        "where": [w for w in where if w.strip()],  # not split: a filter may hold commas
        "order_by": split_list(order_by),
        "limit": limit,
        "time_constraint": (start_time, end_time) if (start_time or end_time) else None,
    }
    if not request["metrics"] and not request["group_by"]:
        raise QueryError("ask for --metrics and/or --dimensions (--group-by)")
    env = env.lower()
    other_env = compare.lower() if compare else None
    if other_env == env:
        raise QueryError(f"--compare names the same environment as --env ({env})")
    environments = env != "prod" or other_env is not None
    if connection is not None and environments:
        raise QueryError(
            "--env/--compare read SQLMesh environments, not a --connection database",
            "pass the project with -p instead of --connection",
        )
    needs_database = not (compile_only or explain) or environments
    if not (compile_only or explain):
        output_format = choose_format(output_format, output)  # a bad -o extension fails before the query runs

    paths = list(semantic)
    if not paths:
        paths = project_semantic_paths(_project(project, False, "no semantic definitions to read"))
    layer = SemanticLayer.load(paths)
    for warning in layer.warnings:
        click.echo(f"warning: {warning}", err=True)
    layer.plan(**request)  # unknown names and refused filters fail here, before any database is opened

    context = None
    if connection is not None:
        layer = layer.with_connection(connection)
    elif needs_database:
        translated = _project(
            project,
            True,
            "--env/--compare need a translated SQLMesh project" if environments else "nothing to run the query on",
            "" if environments else ", or run on a DuckDB database with --connection",
        ).translated
        with progress("opening the SQLMesh project"):
            context = sqlmesh_context(translated)
            layer = layer.with_connection(context, env)

    if explain:
        click.echo(str(layer.explain(**request, dialect=dialect)))
        return
    if compile_only:
        click.echo(layer.compile(**request, dialect=dialect))
        return
    with progress("running the query"):
        if other_env is None:
            data = layer.query_arrow(**request)
        else:
            data = layer.compare_arrow(layer.with_connection(context, other_env), (env, other_env), **request)
    chosen = emit(data, output_format, output)
    rows = f"{data.num_rows} row{'s' if data.num_rows != 1 else ''}"
    if output is not None:
        click.echo(f"wrote {rows} to {output}", err=True)
    elif chosen == "table":
        click.echo(f"({rows})", err=True)
