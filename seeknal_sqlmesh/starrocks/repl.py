"""`seeknal repl`: SQL on a translated project's DuckDB warehouse (or a StarRocks connection).

On DuckDB the warehouse is attached read-only, and every model of the chosen SQLMesh environment that lives in it is
visible under its Seeknal names: `transform.daily_sales` and Seeknal's REPL name `transform_daily_sales`. Where those
names point is read from SQLMesh's state (`runtime.environments.EnvironmentTables`), so the project's naming settings
are followed (`transform__dev.daily_sales` for `--env dev` by default). On StarRocks statements go to the connection
as typed.

Results are Arrow tables printed through `cli_kit.emit`: a table at the terminal (the first MAX_ROWS rows), or
complete CSV / JSON / Parquet with --format / -o, with the engine's types.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import click
from sqlglot import exp

from seeknal_sqlmesh import cli_kit
from seeknal_sqlmesh.contract import Layout, data_area
from seeknal_sqlmesh.sqlkit import col, ident, string, table, to_sql
from seeknal_sqlmesh.starrocks.errors import CommandError, ReplError

if t.TYPE_CHECKING:
    import pyarrow as pa

    from seeknal_sqlmesh.contract import ProjectPaths

HISTORY = Path.home() / ".seeknal_repl_history"
MAX_ROWS = 200  # rows drawn at the terminal; files and machine formats get every row
WAREHOUSE_ALIAS = Path(Layout.WAREHOUSE).stem  # SQLMesh's default catalog name for the file: its views use it
BATCH_ROWS = 10_000


# ---------------------------------------------------------------------------------------------- results


def rows_to_arrow(columns: t.Sequence[str], rows: t.Sequence[t.Sequence[t.Any]]) -> pa.Table:
    """DB-API rows -> an Arrow table typed from the Python values (dates stay dates, decimals decimals); a column
    whose values have no common Arrow type is kept as text."""
    import pyarrow as pa

    arrays = []
    for i in range(len(columns)):
        values = [row[i] for row in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], type=pa.string()))
    return pa.Table.from_arrays(arrays, names=list(columns))  # repeated names are told apart by cli_kit.emit


@dataclass
class Result:
    table: pa.Table
    truncated: bool = False  # more rows than the limit asked for


def _first_rows(reader: pa.RecordBatchReader, limit: t.Optional[int]) -> Result:
    import pyarrow as pa

    batches, count = [], 0
    for batch in reader:
        batches.append(batch)
        count += batch.num_rows
        if limit is not None and count > limit:
            break
    data = pa.Table.from_batches(batches, schema=reader.schema)
    if limit is not None and data.num_rows > limit:
        return Result(data.slice(0, limit), truncated=True)
    return Result(data)


# ---------------------------------------------------------------------------------------------- sessions


class Session:
    label = ""
    names: t.Sequence[str] = ()

    def run(self, sql: str, limit: t.Optional[int] = None) -> t.Optional[Result]:
        """The statement's rows (at most `limit`), or None when it returns none."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def environment_views(project: Path, env: str) -> t.Dict[str, exp.Table]:
    """Every model of the SQLMesh environment -> its view, from SQLMesh's state (the models are not loaded)."""
    import duckdb
    from sqlmesh import Context
    from sqlmesh.utils.errors import SQLMeshError

    from seeknal_sqlmesh.runtime.environments import EnvironmentTables

    with cli_kit.progress("Reading the SQLMesh state"):
        try:
            context = Context(paths=str(project), load=False)
            try:
                return EnvironmentTables.open(context.state_reader, env, "duckdb").views()
            finally:
                context.close()
        except (SQLMeshError, duckdb.Error) as e:
            raise ReplError(
                f"cannot read the SQLMesh state of {project}: {str(e).splitlines()[0]}",
                "is a SQLMesh command running on it?",
            ) from None


def _warehouse_views(con: t.Any) -> t.Set[t.Tuple[str, str]]:
    """(schema, view) of every view in the attached warehouse: models of other gateways have none there."""
    query = (
        exp.select(col("table_schema"), col("table_name"))
        .from_(table("information_schema.tables"))
        .where(col("table_catalog").eq(string(WAREHOUSE_ALIAS)))
        .where(col("table_type").eq(string("VIEW")))
    )
    return {(s.lower(), v.lower()) for s, v in con.execute(to_sql(query, "duckdb")).fetchall()}


class DuckDBSession(Session):
    def __init__(self, project: Path, env: str) -> None:
        import duckdb

        path = data_area(project) / Layout.WAREHOUSE
        if not path.is_file():
            raise ReplError(f"{path} does not exist", f"build the models first: sqlmesh -p {project} plan")
        views = environment_views(project, env)
        self.con = duckdb.connect(":memory:")
        attach = exp.Attach(
            this=exp.Alias(this=string(path.as_posix()), alias=ident(WAREHOUSE_ALIAS, quoted=False)),
            expressions=[exp.AttachOption(this=exp.var("READ_ONLY"))],
        )
        try:
            self.con.execute(to_sql(attach, "duckdb"))
        except duckdb.Error as e:
            self.con.close()
            raise ReplError(
                f"cannot open {path}: {str(e).splitlines()[0]}", "is a SQLMesh command running on it?"
            ) from None
        self.label = f"duckdb:{env}"
        self.names = self._expose(views)
        if not self.names and env.lower() != "prod":
            raise ReplError(
                f"environment '{env}' has no models in {path}",
                "its models run on another gateway: use --connection, or plan it on DuckDB",
            )

    def _expose(self, views: t.Mapping[str, exp.Table]) -> t.List[str]:
        """Views in the session's own catalog, named after the models, reading the environment's views."""
        present = _warehouse_views(self.con)
        names = []
        for model, view in sorted(views.items()):
            if (view.db.lower(), view.name.lower()) not in present:
                continue
            source = view.copy()
            source.set("catalog", source.args.get("catalog") or ident(WAREHOUSE_ALIAS, quoted=False))
            schema, name = model.split(".", 1)
            reads = exp.select("*").from_(source)
            for statement in (
                exp.Create(this=exp.Table(db=ident(schema)), kind="SCHEMA", exists=True),
                exp.Create(
                    this=exp.Table(this=ident(name), db=ident(schema)), kind="VIEW", replace=True, expression=reads
                ),
                exp.Create(
                    this=exp.Table(this=ident(f"{schema}_{name}"), db=ident("main")),
                    kind="VIEW",
                    replace=True,
                    expression=reads,
                ),
            ):
                self.con.execute(to_sql(statement, "duckdb"))
            names.append(model)
        return names

    def run(self, sql: str, limit: t.Optional[int] = None) -> t.Optional[Result]:
        import duckdb

        try:
            cur = self.con.execute(sql)
            if cur.description is None:
                return None
            return _first_rows(cur.to_arrow_reader(BATCH_ROWS), limit)
        except duckdb.Error as e:
            raise ReplError(str(e).splitlines()[0]) from None

    def close(self) -> None:
        self.con.close()


class StarRocksSession(Session):
    def __init__(self, settings: t.Mapping[str, t.Any], name: str) -> None:
        from seeknal_sqlmesh.starrocks.client import connect

        with cli_kit.progress(f"Connecting to StarRocks '{name}'"):
            self.con = connect(settings, name)
        self.label = f"starrocks:{name}"

    def run(self, sql: str, limit: t.Optional[int] = None) -> t.Optional[Result]:
        import pymysql

        try:
            with self.con.cursor() as cur:
                cur.execute(sql)
                if cur.description is None:
                    return None
                rows = list(cur.fetchall() if limit is None else cur.fetchmany(limit + 1))
                columns = [d[0] for d in cur.description]
        except pymysql.err.MySQLError as e:
            raise ReplError(str(e.args[-1])) from None
        truncated = limit is not None and len(rows) > limit
        return Result(rows_to_arrow(columns, rows[:limit] if truncated else rows), truncated)

    def close(self) -> None:
        self.con.close()


def open_session(
    project: ProjectPaths, connection: t.Optional[str] = None, profile: t.Optional[Path] = None, env: str = "prod"
) -> Session:
    """A StarRocks connection of profiles.yml, else the translated project's DuckDB warehouse."""
    if connection:
        from seeknal_sqlmesh.starrocks.client import resolve_connection

        _, settings = resolve_connection(project, connection, profile)
        return StarRocksSession(settings, connection)
    from seeknal_sqlmesh.contract import find_project, is_translated_project

    if not is_translated_project(project.translated):
        find_project(project.seeknal or project.translated)  # raises, saying how to translate
    return DuckDBSession(project.translated, env)


# ---------------------------------------------------------------------------------------------- printing


@dataclass
class Printer:
    """Where results go: printed one after the other, or (with -o) the one result written to the file."""

    fmt: t.Optional[str] = None
    output: t.Optional[Path] = None
    kept: t.List[Result] = field(default_factory=list)

    @property
    def human(self) -> bool:
        return self.output is None and cli_kit.output_format(self.fmt, None) == "table"

    @property
    def limit(self) -> t.Optional[int]:
        return MAX_ROWS if self.human else None

    def note(self, text: str) -> None:
        """Statement notes ("OK", row counts) go with a table; beside CSV or JSON they would corrupt the data."""
        click.echo(text, err=not self.human)

    def show(self, result: t.Optional[Result]) -> None:
        if result is None:
            self.note("OK")
            return
        if self.output is not None:
            self.kept.append(result)
            return
        cli_kit.emit(result.table, self.fmt)
        if self.human:
            rows = result.table.num_rows
            more = f" (first {MAX_ROWS} shown)" if result.truncated else ""
            self.note(f"{rows} row{'s' if rows != 1 else ''}{more}")

    def finish(self) -> None:
        """With -o: write the one result (several would overwrite each other; none would be an empty file)."""
        if self.output is None:
            return
        if len(self.kept) != 1:
            raise CommandError(
                f"-o {self.output} takes the result of one query; {len(self.kept)} statements returned rows",
                "run one query per output file",
            )
        cli_kit.emit(self.kept[0].table, self.fmt, self.output)
        rows = self.kept[0].table.num_rows
        click.echo(f"wrote {rows} row{'s' if rows != 1 else ''} to {self.output}", err=True)


# ---------------------------------------------------------------------------------------------- running


def split_statements(text: str) -> t.List[str]:
    """Statements separated by `;` outside quotes and comments."""
    out: t.List[str] = []
    current: t.List[str] = []
    quote: t.Optional[str] = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
            current.append(ch)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif ch == ";":
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current).strip())
    return [s for s in out if s]


def run_statement(session: Session, sql: str, printer: Printer) -> bool:
    try:
        with cli_kit.progress("Running"):
            result = session.run(sql, printer.limit)
    except ReplError as e:
        click.echo(f"error: {e.message}", err=True)
        return False
    printer.show(result)
    return True


def run_script(session: Session, text: str, printer: t.Optional[Printer] = None) -> t.Tuple[int, int]:
    """Run every statement (a failure does not stop the next ones): (failed, total)."""
    printer = printer or Printer()
    statements = split_statements(text)
    failed = sum(not run_statement(session, sql, printer) for sql in statements)
    return failed, len(statements)


def interactive(session: Session, printer: t.Optional[Printer] = None) -> None:
    """A prompt with history; a statement ends with `;` (multi-line until then); `.quit` or Ctrl-D leaves."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    printer = printer or Printer()
    prompt: PromptSession[str] = PromptSession(history=FileHistory(str(HISTORY)))
    names = session.names
    listed = f": {len(names)} models ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})" if names else ""
    click.echo(f"seeknal repl on {session.label}{listed}")
    click.echo("End statements with ';'. .quit to leave.")
    buffer: t.List[str] = []
    while True:
        try:
            line = prompt.prompt("... " if buffer else f"{session.label}> ")
        except KeyboardInterrupt:
            buffer = []
            continue
        except EOFError:
            break
        if not buffer and line.strip() in (".quit", ".exit", "exit", "quit"):
            break
        buffer.append(line)
        text = "\n".join(buffer)
        if text.rstrip().endswith(";"):
            run_script(session, text, printer)
            buffer = []
