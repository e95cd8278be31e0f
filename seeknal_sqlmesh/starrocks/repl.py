"""`seeknal repl`: SQL on a translated project's DuckDB warehouse (or a StarRocks connection).

On DuckDB the warehouse is attached read-only, and every model of the chosen SQLMesh environment is visible
under its Seeknal names: `transform.daily_sales` and Seeknal's REPL name `transform_daily_sales` (for `--env dev`
they read SQLMesh's `transform__dev.daily_sales`). On StarRocks statements go to the connection as typed.
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

WAREHOUSE = "warehouse.duckdb"
HISTORY = Path.home() / ".seeknal_repl_history"
MAX_ROWS = 200


class ReplError(Exception):
    pass


class Session:
    label = ""

    def run(self, sql: str) -> t.Tuple[t.List[str], t.List[tuple]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBSession(Session):
    def __init__(self, project: Path, env: str) -> None:
        import duckdb

        path = project / WAREHOUSE
        if not path.is_file():
            raise ReplError(f"{path} does not exist: run `sqlmesh -p {project} plan` first")
        self.con = duckdb.connect(":memory:")
        try:
            self.con.execute(f"ATTACH '{path.as_posix()}' AS warehouse (READ_ONLY)")
        except duckdb.Error as e:
            raise ReplError(
                f"cannot open {path}: {str(e).splitlines()[0]} (is a SQLMesh command running on it?)"
            ) from None
        self.label = f"duckdb:{env}"
        self.names = self._expose(env.lower())
        if not self.names and env.lower() != "prod":
            raise ReplError(f"environment '{env}' has no models in {path}: `sqlmesh -p {project} plan {env}`")

    def _expose(self, env: str) -> t.List[str]:
        rows = self.con.execute(
            "SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 'warehouse' AND NOT internal"
        ).fetchall()
        suffix = f"__{env}"
        names = []
        for schema, view in sorted(rows):
            if schema.startswith("sqlmesh__"):
                continue
            if env == "prod":
                if "__" in schema:
                    continue
                kind = schema
            elif schema.endswith(suffix):
                kind = schema[: -len(suffix)]
            else:
                continue
            self.con.execute(f'CREATE SCHEMA IF NOT EXISTS "{kind}"')
            source = f'warehouse."{schema}"."{view}"'
            self.con.execute(f'CREATE OR REPLACE VIEW "{kind}"."{view}" AS SELECT * FROM {source}')
            self.con.execute(f'CREATE OR REPLACE VIEW main."{kind}_{view}" AS SELECT * FROM {source}')
            names.append(f"{kind}.{view}")
        return names

    def run(self, sql: str) -> t.Tuple[t.List[str], t.List[tuple]]:
        import duckdb

        try:
            cur = self.con.execute(sql)
        except duckdb.Error as e:
            raise ReplError(str(e).splitlines()[0]) from None
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchmany(MAX_ROWS + 1)

    def close(self) -> None:
        self.con.close()


class StarRocksSession(Session):
    def __init__(self, settings: t.Dict[str, t.Any], name: str) -> None:
        import pymysql

        try:
            self.con = pymysql.connect(autocommit=True, connect_timeout=10, **settings)
        except pymysql.err.MySQLError as e:
            raise ReplError(
                f"cannot connect to StarRocks '{name}' at {settings['host']}:{settings['port']}: {e.args[-1]}"
            ) from None
        self.label = f"starrocks:{name}"

    def run(self, sql: str) -> t.Tuple[t.List[str], t.List[tuple]]:
        import pymysql

        try:
            with self.con.cursor() as cur:
                cur.execute(sql)
                if cur.description is None:
                    return [], []
                return [d[0] for d in cur.description], list(cur.fetchmany(MAX_ROWS + 1))
        except pymysql.err.MySQLError as e:
            raise ReplError(str(e.args[-1])) from None

    def close(self) -> None:
        self.con.close()


def open_session(
    project: Path, connection: t.Optional[str] = None, profile: t.Optional[Path] = None, env: str = "prod"
) -> Session:
    if connection:
        from seeknal_sqlmesh.starrocks.ddl import CommandError, resolve_connection

        try:
            _, settings = resolve_connection(project, connection, profile)
        except CommandError as e:
            raise ReplError(str(e)) from None
        return StarRocksSession(settings, connection)
    return DuckDBSession(project, env)


def split_statements(text: str) -> t.List[str]:
    """Statements separated by `;` outside quotes and comments."""
    out, current, quote, i = [], [], None, 0
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


def format_table(columns: t.List[str], rows: t.List[tuple]) -> str:
    shown = rows[:MAX_ROWS]
    cells = [[("NULL" if v is None else str(v)) for v in row] for row in shown]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def fmt(values: t.Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    parts = [line, fmt(columns), line, *(fmt(r) for r in cells), line]
    more = " (first %d shown)" % MAX_ROWS if len(rows) > MAX_ROWS else ""
    parts.append(f"{len(shown)} row{'s' if len(shown) != 1 else ''}{more}")
    return "\n".join(parts)


def execute_and_print(session: Session, sql: str, out: t.Optional[t.TextIO] = None) -> bool:
    try:
        columns, rows = session.run(sql)
    except ReplError as e:
        print(f"error: {e}", file=sys.stderr)
        return False
    print(format_table(columns, rows) if columns else "OK", file=out or sys.stdout)
    return True


def run_script(session: Session, text: str) -> bool:
    ok = True
    for statement in split_statements(text):
        ok = execute_and_print(session, statement) and ok
    return ok


def interactive(session: Session) -> None:
    """A prompt with history; a statement ends with `;` (multi-line until then); `.quit` or Ctrl-D leaves."""
    if not sys.stdin.isatty():
        run_script(session, sys.stdin.read())
        return
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    prompt = PromptSession(history=FileHistory(str(HISTORY)))
    names = getattr(session, "names", None)
    print(
        f"seeknal repl on {session.label}"
        + (f": {len(names)} models ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})" if names else "")
    )
    print("End statements with ';'. .quit to leave.")
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
            run_script(session, text)
            buffer = []
