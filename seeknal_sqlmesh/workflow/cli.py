"""The Seeknal workflow commands: argument parsing and printing only; each calls one library function on one
SQLMesh `Context` (`seeknal_sqlmesh.workflow`). Nothing heavy is imported until a command runs.

SQLMesh's own console (plan diffs, categories, backfill progress) is shown by the commands that change things
(plan, apply, promote, run, janitor); commands that print data keep it quiet, so `--format json` stays JSON.
"""

from __future__ import annotations

import contextlib
import json
import sys
import typing as t
from dataclasses import asdict, fields
from pathlib import Path

import click

from seeknal_sqlmesh.cli_kit import SeeknalGroup, emit, env_option, output_options, progress, project_option, split_list
from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.errors import CheckFailed

if t.TYPE_CHECKING:
    from seeknal_sqlmesh.contract import ProjectPaths
    from seeknal_sqlmesh.workflow.context import Workspace
    from seeknal_sqlmesh.workflow.lineage import LineageGraph

# ---------------------------------------------------------------------- shared pieces


@contextlib.contextmanager
def _workspace(
    paths: ProjectPaths,
    *,
    console: bool = False,
    to_stderr: bool = False,
    workers: t.Optional[int] = None,
    load: bool = True,
) -> t.Iterator[Workspace]:
    """Open the project once; with `console`, SQLMesh prints what it does (on stderr with `to_stderr`); without
    `load`, the model files are not read (commands that work on an environment's snapshots in state)."""
    _skip_ipython_magics()
    from sqlmesh.core.console import configure_console, get_console, set_console

    from seeknal_sqlmesh.workflow.context import open_workspace

    previous = get_console()
    if console:
        configure_console()
        if to_stderr:  # every SQLMesh console prints through one rich console: point it at stderr
            rich = getattr(get_console(), "console", None)
            if rich is not None:
                rich.file = sys.stderr
    try:
        with progress("Loading the SQLMesh project"):
            ws = open_workspace(paths, concurrent_tasks=workers, load=load)
        for note in ws.notes:
            click.echo(f"note: {note}", err=True)
        with ws:
            yield ws
    finally:
        set_console(previous)


def _skip_ipython_magics() -> None:
    """SQLMesh's Python-API analytics wrapper imports `sqlmesh.magics` (IPython, ~0.5 s) on every `Context.plan`/
    `run`/... call, only to compare its file name with the call stack. A command-line process is no notebook: an
    empty stand-in module makes that import free (a notebook imports the real one when SQLMesh loads)."""
    import types

    if "sqlmesh.magics" not in sys.modules and "IPython" not in sys.modules:
        stand_in = types.ModuleType("sqlmesh.magics")
        stand_in.__file__ = "<sqlmesh.magics: not loaded by the seeknal command>"
        sys.modules["sqlmesh.magics"] = stand_in


def _rows(items: t.Sequence[t.Any], kind: type) -> t.Any:
    """Dataclass rows -> an Arrow table (with its columns even when there are no rows)."""
    import pyarrow as pa

    names = [f.name for f in fields(kind)]
    if not items:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    return pa.Table.from_pylist([asdict(i) for i in items])


def _machine(fmt: t.Optional[str], output: t.Optional[Path]) -> bool:
    return output is not None or fmt in ("csv", "json", "parquet")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _date_options(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    func = click.option("--end", default=None, help="End date (inclusive), e.g. 2026-01-31.")(func)
    return click.option("--start", default=None, help="Start date, e.g. 2026-01-01.")(func)


def _plan_project(ctx: click.Context, param: click.Parameter, value: t.Optional[Path]) -> t.Tuple[ProjectPaths, bool]:
    """`-p` for plan/apply: a Seeknal project (translated first, even the first time) or a translated project."""
    from seeknal_sqlmesh.contract import find_project, is_seeknal_project

    root = Path(value or ".").resolve()
    return find_project(root, must_exist=False), is_seeknal_project(root)


def _plan_options(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    func = click.option(
        "--no-translate", is_flag=True, help="Plan the translation as it is (do not translate the Seeknal project)."
    )(func)
    func = click.option(
        "--settings",
        "settings_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Translation: YAML merged over the generated SQLMesh settings (as `seeknal translate --settings`).",
    )(func)
    func = click.option(
        "--params",
        "params_json",
        default=None,
        help="Translation: JSON object of {{ }} values (as `seeknal translate`).",
    )(func)
    func = click.option("--skip-tests", is_flag=True, help="Do not run the unit tests first.")(func)
    func = click.option(
        "--include-unmodified", is_flag=True, help="A development environment gets every model, changed or not."
    )(func)
    func = _date_options(func)
    func = click.option(
        "--select",
        multiple=True,
        help="Only these nodes (SQLMesh selectors: transform.x, transform.x+ with downstream, +x with upstream, tag:t).",
    )(func)
    func = click.option(
        "--restate", multiple=True, help="Recompute these nodes' intervals (and their downstream), e.g. transform.x."
    )(func)
    func = click.argument("environment", default="prod", required=False)(func)
    return click.option(
        "-p",
        "--project",
        "project",
        type=click.Path(path_type=Path),
        default=None,
        callback=_plan_project,
        help="A Seeknal project (translated in-process first) or a translated project. Default: .",
    )(func)


def _translation_options(settings_file: t.Optional[Path], params_json: t.Optional[str]) -> t.Dict[str, t.Any]:
    import yaml

    from seeknal_sqlmesh.errors import SeeknalError

    options: t.Dict[str, t.Any] = {}
    if params_json:
        try:
            options["params"] = json.loads(params_json)
        except json.JSONDecodeError as e:
            raise click.BadParameter(f"not JSON: {e}", param_hint="--params") from None
    if settings_file is not None:
        try:
            options["settings_overrides"] = yaml.safe_load(settings_file.read_text())
        except yaml.YAMLError as e:
            raise SeeknalError(f"{settings_file}: not valid YAML ({e})", "fix the settings file") from None
    return options


def _plan_and_report(
    project: t.Tuple[ProjectPaths, bool],
    environment: str,
    auto_apply: bool,
    no_translate: bool,
    **options: t.Any,
) -> None:
    from seeknal_sqlmesh.workflow import plan as planning

    paths, is_seeknal = project
    settings_file, params_json = options.pop("settings_file"), options.pop("params_json")
    if is_seeknal and not no_translate:
        with progress("Translating the Seeknal project"):
            changed = planning.translate_changes(paths, **_translation_options(settings_file, params_json))
        shown = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
        click.echo(
            f"Translated {paths.seeknal} into {paths.translated}: {len(changed)} files changed ({shown})."
            if changed
            else f"Translation of {paths.seeknal} is up to date."
        )
        if Layout.SETTINGS in changed and settings_file is None:
            click.echo("note: settings.yaml changed; if you translate with --settings FILE, pass it here too", err=True)
    prompt = not auto_apply and _interactive()
    with _workspace(paths, console=True) as ws:
        result = planning.plan(
            ws,
            environment,
            auto_apply=auto_apply,
            restate=split_list(options.pop("restate")),
            select=split_list(options.pop("select")),
            prompt=prompt,
            **options,
        )
    if not result.changes:
        click.echo(f"No changes to plan: '{result.environment}' is up to date with the project.")
    elif result.applied:
        click.echo(f"Applied to '{result.environment}': {len(result.changes)} models.")
        _column_changes_table(result.columns, f"Column changes in '{result.environment}'")
    elif not prompt:
        _changes_table(result.changes, f"Plan for '{result.environment}'")
        _column_changes_table(result.columns, f"Column changes for '{result.environment}'")
        click.echo(
            f"Not applied. Apply it with `seeknal apply {result.environment}` "
            f"(or `seeknal plan {result.environment} --auto-apply`)."
        )


def _changes_table(changes: t.Sequence[t.Any], title: str) -> None:
    from seeknal_sqlmesh.workflow.plan import ModelChange

    click.echo()
    emit(_rows(changes, ModelChange), title=title)


def _column_changes_table(changes: t.Sequence[t.Any], title: str) -> None:
    """Added, removed and retyped columns of the modified models; `breaks`: what a removed column fed."""
    if not changes:
        return
    from seeknal_sqlmesh.workflow.columns import ColumnChange

    click.echo()
    emit(_rows(changes, ColumnChange), title=title)


def _emit_graph(
    graph: LineageGraph, fmt: str, output: t.Optional[Path], html_file: t.Optional[Path], title: str
) -> None:
    if html_file is not None:
        from seeknal_sqlmesh.workflow.html import render_html

        html_file.parent.mkdir(parents=True, exist_ok=True)
        html_file.write_text(render_html(graph, title))
        click.echo(f"Wrote {html_file}", err=True)
    text = json.dumps(graph.to_dict(), indent=2) + "\n" if fmt == "json" else graph.tree()
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
    elif html_file is None or fmt == "json":
        click.echo(text, nl=False)


def _graph_options(func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    func = click.option(
        "--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), help="Write a self-contained HTML page."
    )(func)
    func = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")(func)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["tree", "json"]),
        default="tree",
        show_default=True,
        help="A tree, or a JSON graph {root, nodes, edges}.",
    )(func)


# ---------------------------------------------------------------------- plan, apply, promote, run


@click.command("plan")
@_plan_options
@click.option("--auto-apply", is_flag=True, help="Apply the plan without asking.")
def plan_command(project: t.Tuple[ProjectPaths, bool], environment: str, auto_apply: bool, **options: t.Any) -> None:
    """Plan ENVIRONMENT (default prod, as in `seeknal plan dev`): the diff, change categories and backfill.

    With -p on a Seeknal project, what changed is translated first, in-process. At a terminal SQLMesh asks before
    applying; otherwise the plan is shown and not applied unless --auto-apply. Stock SQLMesh: `sqlmesh plan [ENV]`.
    """
    _plan_and_report(project, environment, auto_apply, options.pop("no_translate"), **options)


@click.command("apply")
@_plan_options
def apply_command(project: t.Tuple[ProjectPaths, bool], environment: str, **options: t.Any) -> None:
    """Plan ENVIRONMENT (default prod) and apply it without prompts.

    Stock SQLMesh: `sqlmesh plan [ENV] --auto-apply --no-prompts`.
    """
    _plan_and_report(project, environment, True, options.pop("no_translate"), **options)


@click.command("promote")
@click.argument("environment")
@project_option
@click.option("--dry-run", is_flag=True, help="Show what prod would get; change nothing.")
def promote_command(environment: str, project: ProjectPaths, dry_run: bool) -> None:
    """Point prod at ENVIRONMENT's snapshots: nothing is recomputed (a view swap).

    Refused when the environment still misses intervals prod would need. Stock SQLMesh: `sqlmesh plan prod` on the
    same files as the environment (here the environment's snapshots are used, whatever the files say).
    """
    from seeknal_sqlmesh.workflow.plan import promote

    with _workspace(project, console=True) as ws:
        result = promote(ws, environment, dry_run=dry_run)
    if not result.changes:
        click.echo(f"prod already serves what '{environment}' serves.")
    elif result.applied:
        click.echo(f"prod now serves '{environment}': {len(result.changes)} models changed, nothing recomputed.")
    else:
        _changes_table(result.changes, f"prod from '{environment}'")
        click.echo(f"Dry run: prod would get {len(result.changes)} model changes from '{environment}'.")


@click.command("run")
@project_option
@env_option
@_date_options
@click.option("--select", multiple=True, help="Only these nodes (and what they need): transform.x, transform.x+ ...")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Models evaluated concurrently.")
@click.option("--ignore-cron", is_flag=True, help="Run every missing interval, due or not.")
@click.option(
    "--no-restate-changed",
    is_flag=True,
    help="Do not recompute file sources whose data changed since --env processed them (and their downstream).",
)
@output_options
def run_command(
    project: ProjectPaths,
    env: str,
    start: t.Optional[str],
    end: t.Optional[str],
    select: t.Sequence[str],
    workers: t.Optional[int],
    ignore_cron: bool,
    no_restate_changed: bool,
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Compute the missing intervals of --env's models that are due, and print what was processed.

    File sources (csv, parquet, ...) whose data changed since --env processed them are recomputed first, with
    everything downstream of them. Stock SQLMesh: `sqlmesh run [ENV] [--start] [--end] [--select-model]`.
    """
    from seeknal_sqlmesh.workflow import sources
    from seeknal_sqlmesh.workflow.plan import Processed, run

    machine = _machine(output_format, output)
    # the options that decide what a run does; a no-op with the same ones needs no SQLMesh (`sources.nothing_to_run`)
    key = json.dumps([start, end, ignore_cron, no_restate_changed])
    if not select and sources.nothing_to_run(project.translated, env.strip().lower(), key):
        if machine:
            emit(_rows([], Processed), output_format, output, title=f"Processed in '{env}'")
        click.echo(
            f"Nothing to run in '{env}': no missing interval is due (nothing changed since the last run).", err=True
        )
        return
    with _workspace(project, console=True, to_stderr=machine, workers=workers, load=bool(select)) as ws:
        result = run(
            ws,
            env,
            start=start,
            end=end,
            select=split_list(select),
            ignore_cron=ignore_cron,
            restate_changed=not no_restate_changed,
        )
        patterns = sources.tracked_sources(ws)
    if result.next_ready_ms is not None:  # after the workspace closed: the state files are as the next run sees them
        sources.record_quiet_run(project.translated, result.environment, key, result.next_ready_ms, patterns)
    for changed in result.changed_sources:
        what = "recomputed with its downstream" if result.restated else "kept (--no-restate-changed)"
        click.echo(f"{changed.model}: data changed ({', '.join(changed.files)}): {what}.", err=True)
    if result.processed or _machine(output_format, output):
        emit(_rows(result.processed, Processed), output_format, output, title=f"Processed in '{result.environment}'")
    if not result.processed:
        click.echo(f"Nothing to run in '{result.environment}': no missing interval is due.", err=True)


# ---------------------------------------------------------------------- render, audit, tests


@click.command("render")
@click.argument("node")
@project_option
@click.option("--target", default=None, help="SQL dialect to transpile to (snowflake, bigquery, postgres, ...).")
@_date_options
@click.option("--expand", is_flag=True, help="Inline the queries of the models it reads.")
def render_command(
    node: str,
    project: ProjectPaths,
    target: t.Optional[str],
    start: t.Optional[str],
    end: t.Optional[str],
    expand: bool,
) -> None:
    """Print NODE's SQL as SQLMesh renders it, transpiled with sqlglot to --target.

    Stock SQLMesh: `sqlmesh render MODEL [--dialect D] [--expand]`.
    """
    from seeknal_sqlmesh.workflow.checks import render

    with _workspace(project) as ws:
        click.echo(render(ws, node, target=target, start=start, end=end, expand=expand), nl=False)


@click.command("audit")
@click.argument("node", required=False)
@project_option
@env_option
@_date_options
@output_options
def audit_command(
    node: t.Optional[str],
    project: ProjectPaths,
    env: str,
    start: t.Optional[str],
    end: t.Optional[str],
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Run the audits of every model of --env, or of NODE, now. Exit 1 when a blocking audit fails.

    Stock SQLMesh: `sqlmesh audit [--model M] [--start] [--end]`.
    """
    from seeknal_sqlmesh.workflow.checks import AuditRow, audit

    with _workspace(project) as ws:
        rows = audit(ws, node, environment=env, start=start, end=end)
    emit(_rows(rows, AuditRow), output_format, output, title=f"Audits in '{env}'")
    failed = [f"{r.audit} on {r.model}" for r in rows if r.status == "fail"]
    if failed:
        raise CheckFailed(f"{len(failed)} blocking audit(s) failed: {', '.join(failed)}", "fix the data or the rule")
    if not rows:
        click.echo("No audits to run.", err=True)


@click.command("create-test")
@click.argument("node")
@project_option
@env_option
@click.option("--rows", type=click.IntRange(min=1), default=5, show_default=True, help="Rows taken from each input.")
@click.option("--name", default=None, help="Test name (default test_<kind>__<name>).")
@click.option("--overwrite", is_flag=True, help="Replace an existing test of that name.")
def create_test_command(
    node: str, project: ProjectPaths, env: str, rows: int, name: t.Optional[str], overwrite: bool
) -> None:
    """Write a SQLMesh YAML unit test for NODE from live data of --env (in the project's tests/ folder).

    Stock SQLMesh: `sqlmesh create_test MODEL --query PARENT "SELECT ..." ...`.
    """
    from seeknal_sqlmesh.workflow.checks import create_test

    with _workspace(project) as ws:
        path = create_test(ws, node, rows=rows, environment=env, name=name, overwrite=overwrite)
    click.echo(f"Wrote {path}")


@click.command("test")
@project_option
@click.option("--match", "match", multiple=True, help="Only tests whose name matches (glob; repeatable).")
@click.option("--update", is_flag=True, help="Rewrite the expected outputs of failing tests from the models.")
@output_options
def test_command(
    project: ProjectPaths,
    match: t.Sequence[str],
    update: bool,
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Run the project's SQLMesh unit tests; exit 1 when one fails.

    Stock SQLMesh: `sqlmesh test [-k PATTERN]`.
    """
    from seeknal_sqlmesh.contract import Layout
    from seeknal_sqlmesh.workflow.checks import TestRow, run_tests, update_tests

    with _workspace(project) as ws:
        report = run_tests(ws, split_list(match))
        if update and report.failed:
            for path in update_tests(ws, [r.test for r in report.failed]):
                click.echo(f"Updated {path}", err=True)
            report = run_tests(ws, split_list(match))
    if report.ran == 0:
        click.echo(
            f"0 tests ran: no unit tests in {project.translated / Layout.TESTS_DIR} (create one: seeknal create-test NODE)."
        )
        return
    emit(_rows(report.rows, TestRow), output_format, output, title="Unit tests")
    for row in report.failed:
        click.echo(f"\n{row.test} ({row.status}):\n{report.messages.get(row.test, '').rstrip()}", err=True)
    passed = report.ran - len(report.failed)
    summary = f"{report.ran} tests ran: {passed} passed, {len(report.failed)} failed."
    if report.failed:
        raise CheckFailed(summary, "fix the model, or accept its new output with `seeknal test --update`")
    click.echo(summary, err=True)


# ---------------------------------------------------------------------- lineage and impact


@click.command("lineage")
@click.argument("column")
@project_option
@env_option
@_graph_options
def lineage_command(
    column: str, project: ProjectPaths, env: str, fmt: str, output: t.Optional[Path], html_file: t.Optional[Path]
) -> None:
    """Where COLUMN (kind.name.column) comes from: the upstream path to source columns, as a tree.

    `--format json` gives the graph {nodes, edges}; `--html FILE` a self-contained page. Stock SQLMesh has no
    lineage command (its UI and `sqlmesh.core.lineage` do column lineage).
    """
    from seeknal_sqlmesh.workflow.lineage import lineage

    with _workspace(project) as ws:
        graph = lineage(ws, column, environment=env)
    _emit_graph(graph, fmt, output, html_file, f"Lineage of {graph.root}")


@click.command("impact")
@click.argument("column")
@project_option
@env_option
@_graph_options
def impact_command(
    column: str, project: ProjectPaths, env: str, fmt: str, output: t.Optional[Path], html_file: t.Optional[Path]
) -> None:
    """What COLUMN (kind.name.column) feeds: every downstream column, and the feature groups, exposures, semantic
    models and metrics that use them.

    `--format json` gives the graph {nodes, edges}; `--html FILE` a self-contained page. Stock SQLMesh has no
    equivalent (`sqlmesh dag` is model-level).
    """
    from seeknal_sqlmesh.workflow.lineage import impact

    with _workspace(project) as ws:
        graph = impact(ws, column, environment=env)
    _emit_graph(graph, fmt, output, html_file, f"Impact of {graph.root}")


# ---------------------------------------------------------------------- intervals


@click.command("check-intervals")
@click.argument("node", required=False)
@project_option
@env_option
@_date_options
@output_options
def check_intervals_command(
    node: t.Optional[str],
    project: ProjectPaths,
    env: str,
    start: t.Optional[str],
    end: t.Optional[str],
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Processed and missing intervals of every model of --env (or NODE), from SQLMesh state.

    Stock SQLMesh: `sqlmesh check_intervals [ENV] [--select-model M] --no-signals`.
    """
    from seeknal_sqlmesh.workflow.intervals import IntervalRow, check_intervals

    with _workspace(project) as ws:
        rows = check_intervals(ws, node, environment=env, start=start, end=end)
    emit(_rows(rows, IntervalRow), output_format, output, title=f"Intervals in '{env}'")


@click.command("invalidate")
@click.argument("node")
@project_option
@env_option
@click.option("--start", required=True, help="First date to reprocess, e.g. 2026-01-01.")
@click.option("--end", default=None, help="Last date to reprocess (inclusive). Default: now.")
@output_options
def invalidate_command(
    node: str,
    project: ProjectPaths,
    env: str,
    start: str,
    end: t.Optional[str],
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Mark NODE and its downstream in --env for reprocessing: the next `seeknal run` computes them again.

    Stock SQLMesh: the interval removal of `sqlmesh plan ENV --restate-model M --start D --end D`, without the
    backfill.
    """
    from seeknal_sqlmesh.workflow.intervals import Invalidated, invalidate

    with _workspace(project) as ws:
        rows = invalidate(ws, node, start=start, end=end, environment=env)
    emit(_rows(rows, Invalidated), output_format, output, title=f"Invalidated in '{env}'")
    if not _machine(output_format, output):
        click.echo(f"Next: seeknal run --env {env}", err=True)


# ---------------------------------------------------------------------- environments and janitor


@click.group("env", cls=SeeknalGroup)
def env_group() -> None:
    """SQLMesh environments of the project."""


@env_group.command("list")
@project_option
@output_options
def env_list_command(project: ProjectPaths, output_format: t.Optional[str], output: t.Optional[Path]) -> None:
    """Every environment: models, time range, expiry. Stock SQLMesh: `sqlmesh environments`."""
    from seeknal_sqlmesh.workflow.plan import EnvironmentRow, environments

    with _workspace(project) as ws:
        rows = environments(ws)
    emit(_rows(rows, EnvironmentRow), output_format, output, title="Environments")


@env_group.command("drop")
@click.argument("environment")
@project_option
def env_drop_command(environment: str, project: ProjectPaths) -> None:
    """Remove ENVIRONMENT now (its views and its state). Stock SQLMesh: `sqlmesh invalidate ENV --sync`."""
    from seeknal_sqlmesh.workflow.plan import drop_environment

    with _workspace(project) as ws:
        drop_environment(ws, environment)
    click.echo(f"Dropped environment '{environment}'.")


@click.command("janitor")
@project_option
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option("--ignore-ttl", is_flag=True, help="Also remove unused snapshots whose TTL has not passed.")
@click.option("--yes", is_flag=True, help="Do not ask before removing with --ignore-ttl.")
@output_options
def janitor_command(
    project: ProjectPaths,
    dry_run: bool,
    ignore_ttl: bool,
    yes: bool,
    output_format: t.Optional[str],
    output: t.Optional[Path],
) -> None:
    """Remove expired environments and snapshots no environment uses (stock SQLMesh: `sqlmesh janitor`), the file
    exports of environments that no longer exist, and folders interrupted translations left."""
    from seeknal_sqlmesh.workflow.plan import Cleanup, janitor

    with _workspace(project) as ws:
        if ignore_ttl and not dry_run and not yes:
            preview = janitor(ws, dry_run=True, ignore_ttl=True)
            if preview:
                emit(_rows(preview, Cleanup), title="Would remove")
                click.confirm("Remove them (snapshots no environment uses, whatever their TTL)?", abort=True)
        rows = janitor(ws, dry_run=dry_run, ignore_ttl=ignore_ttl)
    emit(_rows(rows, Cleanup), output_format, output, title="Would remove" if dry_run else "Removed")
    if not rows:
        click.echo("Nothing to clean up.", err=True)


# ---------------------------------------------------------------------- dev loop


@click.command("dev")
@click.option(
    "-p",
    "--project",
    "project",
    type=click.Path(path_type=Path),
    default=None,
    callback=_plan_project,
    help="The Seeknal project to watch (translated into target/sqlmesh). Default: .",
)
@click.option("--env", "env", default="dev", show_default=True, help="The development environment kept up to date.")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Translation: YAML merged over the generated SQLMesh settings (as `seeknal translate --settings`).",
)
@click.option("--params", "params_json", default=None, help="Translation: JSON object of {{ }} values.")
@click.option("--once", is_flag=True, help="One cycle (translate, plan and apply, restate changed data), then exit.")
@click.option(
    "--max-cycles", type=click.IntRange(min=1), default=None, help="Exit after N cycles (the first at start)."
)
@click.option("--poll", "poll_seconds", type=float, default=0.5, show_default=True, help="Seconds between checks.")
@click.option("--no-restate-changed", is_flag=True, help="Do not recompute file sources whose data changed.")
def dev_command(
    project: t.Tuple[ProjectPaths, bool],
    env: str,
    settings_file: t.Optional[Path],
    params_json: t.Optional[str],
    once: bool,
    max_cycles: t.Optional[int],
    poll_seconds: float,
    no_restate_changed: bool,
) -> None:
    """Watch the Seeknal project and keep --env (default dev) up to date, in one warm process.

    On every change: translate what changed, reload the SQLMesh models, plan and apply --env, and recompute file
    sources whose data changed (with their downstream). One line per change; Ctrl-C exits. Stock SQLMesh has no
    equivalent (each `sqlmesh plan` is a new process).
    """
    from seeknal_sqlmesh.errors import SeeknalError
    from seeknal_sqlmesh.workflow.dev import DevLoop

    paths, _ = project
    loop = DevLoop(
        paths,
        env,
        translate_options=_translation_options(settings_file, params_json),
        restate_changed=not no_restate_changed,
    )
    click.echo(f"Watching {paths.seeknal} -> '{loop.environment}' (Ctrl-C to stop)", err=True)

    errors: t.List[str] = []

    def report(cycle: t.Any) -> None:
        click.echo(cycle.summary(loop.environment))
        if cycle.error:
            errors.append(cycle.error)

    cycles = loop.watch(max_cycles=1 if once else max_cycles, poll_seconds=poll_seconds, report=report)
    if once and errors:
        raise SeeknalError(f"the cycle failed: {errors[-1]}", "fix the project and run `seeknal dev` again")
    click.echo(f"Stopped after {cycles} cycles.", err=True)


COMMANDS: t.Tuple[click.Command, ...] = (
    plan_command,
    apply_command,
    promote_command,
    run_command,
    render_command,
    audit_command,
    lineage_command,
    impact_command,
    create_test_command,
    test_command,
    check_intervals_command,
    invalidate_command,
    env_group,
    janitor_command,
    dev_command,
)
