"""`seeknal query`: argument parsing and output only; the work is done by `SemanticLayer`."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import click

from seeknal_sqlmesh.semantic.errors import QueryError, SemanticDefinitionError

FORMATS = ("table", "csv", "json")


def _split(values: t.Sequence[str]) -> t.List[str]:
    out: t.List[str] = []
    for v in values:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _fail(message: str, code: int = 2) -> t.NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _is_sqlmesh_project(path: Path) -> bool:
    has_config = any((path / f).exists() for f in ("config.py", "config.yaml", "config.yml"))
    return has_config and (path / "models").is_dir()


def _sqlmesh_context(project: Path):
    import os

    os.environ.setdefault("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "true")
    from sqlmesh import Context

    return Context(paths=str(project), load=False)


def _emit(df, fmt: str, output: t.Optional[Path]) -> None:
    if fmt == "csv":
        text = df.to_csv(index=False)
    elif fmt == "json":
        text = df.to_json(orient="records", date_format="iso", indent=2) + "\n"
    else:
        text = (df.to_string(index=False) if len(df.columns) else "(no columns)") + "\n"
        text += f"({len(df)} row{'s' if len(df) != 1 else ''})\n"
    if output is not None:
        output.write_text(text)
        click.echo(f"wrote {len(df)} rows to {output}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("query")
@click.option("--metrics", "metrics", multiple=True, help="Metrics, comma separated.")
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
@click.option("--env", "env", default=None, help="SQLMesh environment to read (default prod).")
@click.option(
    "--compare", "compare", default=None, help="Second environment: print both side by side with the difference."
)
@click.option("--compile", "compile_only", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--explain", is_flag=True, help="Print the SQL and the models and columns it reads.")
@click.option("--dialect", default=None, help="SQL dialect of --compile/--explain (duckdb, starrocks, postgres, ...).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the result to FILE."
)
@click.option(
    "--semantic",
    "semantic",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Semantic YAML files or folders (default: the project's seeknal/semantic or seeknal/).",
)
@click.option(
    "--connection",
    default=None,
    help="DuckDB database (path or duckdb:///path) to run on instead of the SQLMesh project.",
)
@click.option(
    "-p",
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Translated SQLMesh project (or Seeknal project) folder.",
)
def query(
    metrics,
    group_by,
    where,
    order_by,
    limit,
    start_time,
    end_time,
    env,
    compare,
    compile_only,
    explain,
    dialect,
    fmt,
    output,
    semantic,
    connection,
    project,
) -> None:
    """Query metrics of the semantic layer (MetricFlow-style), in a SQLMesh environment."""
    from seeknal_sqlmesh.semantic.layer import SemanticLayer, compare_frames, semantic_paths

    metrics_, group_by_, order_ = _split(metrics), _split(group_by), _split(order_by)
    where_ = [w for w in where if w.strip()]
    if not metrics_ and not group_by_:
        _fail("ask for --metrics and/or --dimensions (--group-by)")
    paths = list(semantic) or semantic_paths(project)
    time_constraint = (start_time, end_time) if (start_time or end_time) else None
    kwargs = dict(
        metrics=metrics_,
        group_by=group_by_,
        where=where_,
        order_by=order_,
        limit=limit,
        time_constraint=time_constraint,
    )
    sqlmesh = connection is None and _is_sqlmesh_project(project)
    needs_db = not (compile_only or explain) or env not in (None, "prod") or compare
    try:
        layer = SemanticLayer.load(paths)
        for w in layer.warnings:
            click.echo(f"warning: {w}", err=True)
        layer.plan(**kwargs)  # bad names and filters fail here, before any database is opened
        if connection is not None:
            layer = layer.with_connection(connection)
        elif sqlmesh and needs_db:
            ctx = _sqlmesh_context(project)
            layer = layer.with_connection(ctx, env)
        elif env not in (None, "prod") or compare:
            _fail(f"--env/--compare need a translated SQLMesh project; {project} is not one (use -p/--project)")
        if compile_only or explain:
            if explain:
                click.echo(str(layer.explain(**{k: v for k, v in kwargs.items()}, dialect=dialect)))
            else:
                click.echo(layer.compile(**kwargs, dialect=dialect))
            return
        if layer.connection is None:
            _fail("nothing to run the query on: run inside a translated SQLMesh project (-p DIR) or pass --connection")
        if compare:
            if not hasattr(layer.connection, "context"):
                _fail("--compare needs a translated SQLMesh project (-p DIR), not --connection")
            other = layer.with_connection(layer.connection.context, compare)
            label_a, label_b = (env or "prod").lower(), compare.lower()
            if label_a == label_b:
                _fail("--compare names the same environment as --env")
            df = compare_frames(
                layer.query(**{**kwargs, "order_by": None, "limit": None}),
                other.query(**{**kwargs, "order_by": None, "limit": None}),
                group_by_,
                metrics_,
                (label_a, label_b),
                order_,
                limit,
            )
        else:
            df = layer.query(**kwargs)
            if not order_ and group_by_ and len(df):
                df = df.sort_values(by=group_by_, kind="stable", na_position="last").reset_index(drop=True)
    except (QueryError, SemanticDefinitionError) as e:
        _fail(str(e))
    except Exception as e:  # the database refused the SQL: show the reason, not a traceback
        if type(e).__module__.split(".")[0] in ("duckdb", "_duckdb", "sqlmesh", "psycopg2", "pymysql"):
            _fail(f"the query failed on the database: {str(e).splitlines()[0]}")
        raise
    _emit(df, fmt, output)
