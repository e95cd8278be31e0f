"""Audits, unit tests and rendering, on one SQLMesh `Context`.

- `audit`: the audits of an environment's models (or one node's), run now on the tables the environment serves;
- `create_test`: a SQLMesh YAML unit test from live data (`Context.create_test`), in the project's `tests/` folder;
- `run_tests`: `Context.test()`, with results as rows; `update_tests` rewrites the expected outputs of failing tests
  from what the models now return on the same inputs;
- `render`: a node's SQL as SQLMesh renders it, transpiled by sqlglot to any dialect.
"""

from __future__ import annotations

import io
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from seeknal_sqlmesh.contract import Layout
from seeknal_sqlmesh.errors import SeeknalError, did_you_mean
from seeknal_sqlmesh.workflow.context import Workspace, sqlmesh_errors

if t.TYPE_CHECKING:
    from sqlmesh.utils.date import TimeLike


@dataclass(frozen=True)
class AuditRow:
    model: str
    audit: str
    blocking: bool
    status: str  # pass | fail | warn (a failed non-blocking audit) | skipped
    failing_rows: t.Optional[int]


def audit(
    ws: Workspace,
    node: t.Optional[str] = None,
    *,
    environment: str = "prod",
    start: t.Optional[TimeLike] = None,
    end: t.Optional[TimeLike] = None,
) -> t.List[AuditRow]:
    """Run the audits of every model of `environment` (or of one node) now (`sqlmesh audit`)."""
    from sqlmesh.core.snapshot import DeployabilityIndex
    from sqlmesh.utils.date import now

    ctx = ws.context
    env = ws.environment_tables(environment).environment
    snapshots = {s.name: s for s in ctx.state_reader.get_snapshots(env.snapshots).values()}
    if node:
        model = ws.model(node)
        if model.fqn not in snapshots:
            raise SeeknalError(
                f"environment '{env.name}' has no model {model.name}", f"plan it: seeknal plan {env.name}"
            )
        targets = [snapshots[model.fqn]]
    else:
        targets = [s for _, s in sorted(snapshots.items()) if s.is_model and s.node.audits_with_args]
    index = None if env.name == "prod" else DeployabilityIndex.create(list(snapshots.values()))
    rows = []
    for snapshot in targets:
        with sqlmesh_errors():
            results = ctx.snapshot_evaluator.audit(
                snapshot=snapshot,
                snapshots=snapshots,
                start=start or env.start_at,
                end=end or env.end_at or now(),
                deployability_index=index,
            )
        for result in results:
            if result.skipped:
                status = "skipped"
            elif result.count:
                status = "fail" if result.blocking else "warn"
            else:
                status = "pass"
            rows.append(
                AuditRow(ws.display_name(snapshot.name), result.audit.name, result.blocking, status, result.count)
            )
    return rows


def create_test(
    ws: Workspace,
    node: str,
    *,
    rows: int = 5,
    environment: str = "prod",
    name: t.Optional[str] = None,
    overwrite: bool = False,
) -> Path:
    """A unit test of `node` from live data: up to `rows` rows of each parent as the environment serves them, and
    the output the model computes from them (`sqlmesh create_test`). Returns the test file."""
    from sqlglot import exp

    ctx = ws.context
    model = ws.model(node)
    if rows < 1:
        raise SeeknalError(f"--rows {rows}: a test needs at least one row", "pass --rows 1 or more")
    tables = ws.environment_tables(environment)
    queries = {}
    for dep in sorted(model.depends_on or ()):
        parent = ctx.models.get(dep)
        source = exp.to_table(dep) if parent is None or parent.kind.is_external else tables.view(parent.name)
        if source is None:
            raise SeeknalError(
                f"environment '{tables.name}' has no table for {ws.display_name(dep)}, an input of {model.name}",
                f"plan it first: seeknal plan {tables.name} --auto-apply",
            )
        queries[dep] = exp.select("*").from_(source).limit(rows).sql(dialect=ctx.engine_adapter.dialect)
    if not queries:
        raise SeeknalError(
            f"{model.name} reads no other model (it reads files or a remote engine directly)",
            "create the test for a node downstream of it",
        )
    test_name = name or "test_" + model.name.replace(".", "__")  # one per node: transform.x and feature_group.x differ
    from seeknal_sqlmesh.translators.publish import project_lock

    path = ws.translated / Layout.TESTS_DIR / f"{test_name}.yaml"
    # tests/ is carried into each new translation: no translation swaps the folder while the file is written
    with project_lock(ws.translated), sqlmesh_errors():
        try:
            ctx.create_test(model.fqn, input_queries=queries, overwrite=overwrite, name=test_name)
        except Exception as e:
            if "Failed to infer the data type" not in str(e):
                raise
            # A parent column whose sampled rows are all NULL and whose type SQLMesh does not know (a file
            # source's columns are declared UNKNOWN): write the inputs with the warehouse's column types instead,
            # then let the model compute the expected rows on them.
            _write_typed_inputs(ws, path, model.fqn, test_name, queries, overwrite)
            ctx.load()
            update_tests(ws, [test_name])
    ctx.load()  # the new test is part of the project from now on (`test`, and the tests `plan` runs)
    return path


def _write_typed_inputs(
    ws: Workspace, path: Path, model: str, test_name: str, queries: t.Mapping[str, str], overwrite: bool
) -> None:
    """A test file whose inputs carry their column types (from the engine) and rows, and no expected rows yet."""
    import numpy as np
    import sqlglot
    from sqlglot import exp
    from sqlmesh.core.test.definition import _normalize_df_value
    from sqlmesh.utils import yaml
    from sqlmesh.utils.date import pandas_timestamp_to_pydatetime

    if path.exists() and not overwrite:
        raise SeeknalError(f"{path} exists", "pass --overwrite to replace it")
    adapter = ws.context.engine_adapter
    inputs: t.Dict[str, t.Any] = {}
    for dep, query in queries.items():
        source = sqlglot.parse_one(query, dialect=adapter.dialect).find(exp.Table)
        types = adapter.columns(source) if source is not None else {}
        frame = adapter.fetchdf(query).apply(lambda c: c.map(_normalize_df_value))
        rows = pandas_timestamp_to_pydatetime(frame, types).replace({np.nan: None}).to_dict(orient="records")
        columns = {name: kind.sql(dialect=adapter.dialect) for name, kind in types.items()}
        inputs[ws.context.get_model(dep, raise_if_missing=True).fqn] = {"columns": columns, "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.dump({test_name: {"model": model, "inputs": inputs, "outputs": {"query": []}}}, handle)


@dataclass(frozen=True)
class TestRow:
    test: str
    model: str
    status: str  # pass | fail | error
    detail: str


@dataclass
class TestReport:
    ran: int
    rows: t.List[TestRow] = field(default_factory=list)
    messages: t.Dict[str, str] = field(default_factory=dict)  # test -> full failure text

    @property
    def failed(self) -> t.List[TestRow]:
        return [r for r in self.rows if r.status != "pass"]


def run_tests(ws: Workspace, match: t.Sequence[str] = ()) -> TestReport:
    """The project's SQLMesh unit tests (`sqlmesh test`), as rows."""
    from sqlmesh.core.test import ModelTest

    ctx = ws.context
    with sqlmesh_errors():
        result = ctx.test(match_patterns=list(match) or None, stream=io.StringIO())
    report = TestReport(result.testsRun)
    outcome: t.Dict[str, t.Tuple[str, str, str]] = {}
    for status, entries in (("fail", result.failures), ("error", result.errors)):
        for test, text in entries:
            if isinstance(test, ModelTest):
                first = next((line for line in str(text).splitlines() if line.strip()), "")
                outcome.setdefault(test.test_name, (status, _model_of(ws, test), first.strip()))
                report.messages.setdefault(test.test_name, str(text))
    for test in result.successes:
        if isinstance(test, ModelTest):
            outcome.setdefault(test.test_name, ("pass", _model_of(ws, test), ""))
    report.rows = [TestRow(name, model, status, detail) for name, (status, model, detail) in sorted(outcome.items())]
    return report


def _model_of(ws: Workspace, test: t.Any) -> str:
    model = getattr(test, "model", None)
    return ws.display_name(model.fqn) if model is not None else ""


def update_tests(ws: Workspace, tests: t.Iterable[str]) -> t.List[Path]:
    """Rewrite the expected `outputs.query` rows of these tests from what their models return now on the tests'
    own inputs (what `create_test` computes); inputs and other settings are kept. Returns the files rewritten."""
    import numpy as np
    from sqlmesh.core.test import ModelTest
    from sqlmesh.core.test.definition import SqlModelTest, _normalize_df_value
    from sqlmesh.utils import yaml
    from sqlmesh.utils.date import pandas_timestamp_to_pydatetime

    ctx = ws.context
    wanted = set(tests)
    by_file: t.Dict[Path, t.List[t.Any]] = {}
    for meta in ctx.select_tests():
        if meta.test_name in wanted:
            by_file.setdefault(meta.path, []).append(meta)
    adapter = ctx.test_connection_config.create_engine_adapter(register_comments_override=False)
    written = []
    try:
        for path, metas in sorted(by_file.items()):
            document = yaml.load(path)
            for meta in metas:
                body = document[meta.test_name]
                test = ModelTest.create_test(
                    body=meta.body,
                    test_name=meta.test_name,
                    models=t.cast(t.Any, ctx.models),
                    engine_adapter=adapter,
                    dialect=ctx.default_dialect,
                    path=path,
                    default_catalog=ctx.default_catalog,
                )
                if test is None:
                    continue
                # The same steps as SQLMesh's `generate_test` (sqlmesh is pinned to 0.236.x).
                test.setUp()
                try:
                    if isinstance(test, SqlModelTest):
                        frame = test._execute(test._render_model_query())
                    else:
                        frame = t.cast(t.Any, test)._execute_model()
                finally:
                    test.tearDown()
                model = test.model
                rows = (
                    pandas_timestamp_to_pydatetime(
                        frame.apply(lambda c: c.map(_normalize_df_value)), model.columns_to_types
                    )
                    .replace({np.nan: None})
                    .to_dict(orient="records")
                )
                outputs = body.setdefault("outputs", {})
                query = outputs.get("query")
                if isinstance(query, dict) and "rows" in query:
                    query["rows"] = rows
                else:
                    outputs["query"] = rows
            with open(path, "w", encoding="utf-8") as handle:
                yaml.dump(document, handle)
            written.append(path)
    finally:
        adapter.close()
    ctx.load()
    return written


def render(
    ws: Workspace,
    node: str,
    *,
    target: t.Optional[str] = None,
    start: t.Optional[TimeLike] = None,
    end: t.Optional[TimeLike] = None,
    expand: bool = False,
) -> str:
    """The node's SQL as SQLMesh renders it (`sqlmesh render`), transpiled by sqlglot to `target` (default: the
    model's own dialect). Parents are the physical tables of the project's snapshots; `expand` inlines them."""
    from sqlglot.dialects.dialect import Dialect, Dialects

    model = ws.model(node)
    if not model.is_sql:
        raise SeeknalError(f"{model.name} is a Python node: it has no SQL to render", "render a SQL node")
    dialect = (target or model.dialect or "").lower()
    known = [d.value for d in Dialects if d.value]
    if dialect not in known:
        raise SeeknalError(
            f"unknown SQL dialect '{target}'{did_you_mean(dialect, known)}", f"one of: {', '.join(known)}"
        )
    with sqlmesh_errors():
        query = ws.context.render(model.fqn, start=start, end=end, expand=expand)
    return query.sql(dialect=Dialect.get_or_raise(dialect), pretty=True) + "\n"
