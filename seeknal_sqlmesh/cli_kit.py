"""The one CLI style, shared by every `seeknal` command (the core's and the plugins').

- `SeeknalGroup`: prints a `SeeknalError` for people (message, hint) and exits with its code; never a traceback
  for a user error;
- `project_option`: `-p/--project` takes a Seeknal project or its translated output (`contract.find_project`);
- `env_option`: `--env` is always the SQLMesh environment;
- `output_options` + `emit`: `--format table|csv|json|parquet` and `-o/--output FILE` (format from the extension
  unless given) for every command that prints data; tables drawn with rich at the terminal's width, plain text when
  stdout is not a terminal; files written with their real types (dates stay dates);
- `split_list`: comma-separated list options, split the same way everywhere;
- `progress`: a spinner (on stderr, only at a terminal) for anything that can take over a second.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import json
import sys
import typing as t
from pathlib import Path

import click

from seeknal_sqlmesh.errors import SeeknalError

if t.TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from seeknal_sqlmesh.contract import ProjectPaths

FORMATS = ("table", "csv", "json", "parquet")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".txt": "table"}
F = t.TypeVar("F", bound=t.Callable[..., t.Any])


class SeeknalGroup(click.Group):
    """A click group whose commands report `SeeknalError`s as messages with the error's exit code."""

    def invoke(self, ctx: click.Context) -> t.Any:
        try:
            return super().invoke(ctx)
        except SeeknalError as e:
            report(e)
            sys.exit(e.exit_code)

    def group(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        kwargs.setdefault("cls", SeeknalGroup)
        return super().group(*args, **kwargs)


def report(error: SeeknalError) -> None:
    click.echo(f"error: {error.message}", err=True)
    if error.hint:
        click.echo(f"  hint: {error.hint}", err=True)


def split_list(values: t.Union[str, t.Sequence[str], None]) -> t.List[str]:
    """`a,b` and repeated options (`--x a --x b,c`) -> ['a', 'b', 'c']; blanks dropped, order kept, no repeats."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    out: t.List[str] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


PROJECT_HELP = "A Seeknal project (its translation in target/sqlmesh is used) or a translated project. Default: ."


def project_option(func: t.Optional[F] = None, *, required: bool = True, translated: bool = True) -> t.Any:
    """`-p/--project PATH` passed as a `ProjectPaths` (default: the current folder).

    `required=False` passes None when -p is not given, for commands that can find the project another way (a replay
    manifest names its project); `translated=False` accepts a Seeknal project that was not translated yet, for
    commands that read only its YAML and profiles."""

    def resolve(ctx: click.Context, param: click.Parameter, value: t.Optional[Path]) -> t.Optional[ProjectPaths]:
        from seeknal_sqlmesh.contract import find_project

        if value is None and not required:
            return None
        return find_project(value, must_exist=translated)

    def decorate(f: F) -> F:
        return click.option(
            "-p", "--project", type=click.Path(path_type=Path), default=None, callback=resolve, help=PROJECT_HELP
        )(f)

    return decorate(func) if func is not None else decorate


def env_option(func: F) -> F:
    return click.option("--env", default="prod", show_default=True, help="SQLMesh environment (prod, dev, ...).")(func)


def output_options(func: F) -> F:
    """`--format` and `-o/--output`: the function receives `output_format` and `output`."""
    func = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write to FILE instead of printing (format from the extension unless --format is given).",
    )(func)
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default=None,
        help="table (default at the terminal), csv, json or parquet (parquet needs -o).",
    )(func)


def output_format(fmt: t.Optional[str], output: t.Optional[Path]) -> str:
    """The format to write: given, else from the output's extension, else a table."""
    if fmt:
        return fmt
    if output is not None:
        suffix = output.suffix.lower()
        if suffix not in _EXTENSIONS:
            raise SeeknalError(
                f"cannot tell the format of {output} from its extension",
                f"use one of {', '.join(sorted(_EXTENSIONS))} or pass --format",
            )
        return _EXTENSIONS[suffix]
    return "table"


def unique_names(names: t.Sequence[str]) -> t.List[str]:
    """`SELECT 1 AS a, 2 AS a` has two columns `a`; JSON objects and rows by name need them apart: `a`, `a_2`."""
    seen: t.Dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def to_arrow(data: t.Union[pa.Table, pd.DataFrame]) -> pa.Table:
    """An Arrow table with distinct column names (a pandas frame is converted)."""
    import pyarrow as pa

    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    names = unique_names(table.column_names)
    return table if names == table.column_names else table.rename_columns(names)


def _json_value(value: t.Any) -> t.Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _json_rows(table: pa.Table) -> str:
    rows = [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]
    return json.dumps(rows, indent=2, default=str, allow_nan=False) + "\n"


def _csv_text(table: pa.Table) -> str:
    """CSV with quotes only where needed; dates as YYYY-MM-DD, timestamps ISO, decimals exact, NULL as empty."""
    import csv
    import io

    def text(value: t.Any) -> t.Any:
        if value is None:
            return ""
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, (dict, list)):
            return json.dumps(_json_value(value), default=str)
        return value

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in zip(*(column.to_pylist() for column in table.columns), strict=True):
        writer.writerow([text(v) for v in row])
    return buffer.getvalue()


def _cell(value: t.Any) -> str:
    if value is None:
        return ""
    value = _json_value(value)
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def render_table(table: pa.Table, title: t.Optional[str] = None, file: t.Optional[t.TextIO] = None) -> None:
    """Rows as a rich table at the terminal's width; plain aligned text when the output is not a terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    out = file or sys.stdout
    tty = out.isatty()
    console = Console(file=out, highlight=False, soft_wrap=not tty, width=None if tty else 10_000)
    view = Table(title=title if tty else None, box=box.SIMPLE_HEAD if tty else None, show_edge=tty, pad_edge=False)
    for name in table.column_names:
        numeric = _is_numeric(table.schema.field(name).type)
        view.add_column(name, justify="right" if numeric else "left", overflow="fold" if tty else "ignore")
    for row in zip(*(column.to_pylist() for column in table.columns), strict=True):
        view.add_row(*(_cell(v) for v in row))
    if not tty and title:
        console.print(title)
    console.print(view)


def _is_numeric(dtype: t.Any) -> bool:
    import pyarrow.types as pat

    return bool(pat.is_integer(dtype) or pat.is_floating(dtype) or pat.is_decimal(dtype))


def emit(
    data: t.Union[pa.Table, pd.DataFrame],
    fmt: t.Optional[str] = None,
    output: t.Optional[Path] = None,
    *,
    title: t.Optional[str] = None,
    metadata: t.Optional[t.Mapping[str, str]] = None,
) -> str:
    """Print `data` or write it to `output` in the chosen format; returns the format used.

    Pass an Arrow table to keep the engine's types (DuckDB's `fetch_arrow_table()`); a pandas frame is converted.
    `metadata` goes into a Parquet file's key-value metadata.
    """
    chosen = output_format(fmt, output)
    table = to_arrow(data)
    if chosen == "parquet":
        if output is None:
            raise SeeknalError("Parquet is binary and is not printed", "write it to a file with -o FILE.parquet")
        import pyarrow.parquet as pq

        if metadata:
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}}
            )
        _write(output, lambda path: pq.write_table(table, path))
        return chosen
    if chosen == "csv":
        text = _csv_text(table)
    elif chosen == "json":
        text = _json_rows(table)
    else:
        if output is None:
            render_table(table, title)
            return chosen
        import io

        buffer = io.StringIO()
        render_table(table, title, file=buffer)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        _write(output, lambda path: Path(path).write_text(text))
    return chosen


def _write(output: Path, writer: t.Callable[[str], object]) -> None:
    """Write through a temporary file in the same folder, then rename: no half-written output."""
    import os
    import tempfile

    output = Path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        os.close(fd)
    except OSError as e:
        raise SeeknalError(f"cannot write {output}: {e.strerror or e}", "choose a writable path for -o") from None
    try:
        writer(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; the result should look like any other file
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def progress(message: str) -> t.Iterator[None]:
    """A spinner on stderr while the block runs (only at a terminal: logs and pipes stay clean)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def spinner(message: str) -> t.Callable[[F], F]:
    """Decorator form of `progress`."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
            with progress(message):
                return func(*args, **kwargs)

        return t.cast(F, run)

    return wrap
