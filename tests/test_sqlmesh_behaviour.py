"""What SQLMesh does with a translated project, checked through SQLMesh's Python API (never console text).

1. a prod plan builds every model with the values Seeknal computes;
2. a change in the Seeknal project is categorised by SQLMesh (NON_BREAKING / BREAKING and the indirect
   categories of children), and only the changed node and its affected children are backfilled;
3. a dev environment leaves prod untouched;
4. `severity: warn` checks do not block a plan, error-severity checks do;
5. incremental nodes become INCREMENTAL_BY_TIME_RANGE and only missing intervals (plus lookback) are processed;
6. translating is deterministic, so re-translating an unchanged project gives a plan without changes.

Every test works on copies under `tmp_path`. The mini project is translated and planned once per module (`base`)
and copied, warehouse included, by the tests that change it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import typing as t
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlglot import exp

from sqlmesh import Context
from sqlmesh.core.config.loader import load_config_from_yaml
from sqlmesh.core.snapshot import SnapshotChangeCategory as Cat
from sqlmesh.core.snapshot.evaluator import SnapshotEvaluator
from sqlmesh.utils.date import to_timestamp
from sqlmesh.utils.errors import NodeAuditsErrors, PlanError

from seeknal_sqlmesh.translators import translate_project

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini"
AUDITS = FIXTURES / "behaviour_audits"
INCREMENTAL = FIXTURES / "behaviour_incremental"

# Models of the translated mini project (python node big_orders included).
MINI_MODELS = {
    "source.orders",
    "source.customers",
    "transform.orders_clean",
    "transform.customer_orders",
    "transform.big_orders",
    "feature_group.customer_features",
    "feature_store.entity_customer",  # the feature store's entity view (features/translate.py)
}
ORDERS_CLEAN_CHILDREN = {"transform.customer_orders", "transform.big_orders", "feature_group.customer_features",
                         "feature_store.entity_customer"}
# What SQLMesh and DuckDB create inside the output folder (warehouse, state, cache, logs): translation carries
# these over and never writes them.
RUNTIME_SUFFIXES = (".duckdb", ".duckdb.wal")
RUNTIME_FOLDERS = (".cache", "logs", ".cwd")


# ---------------------------------------------------------------------------------------------------------------
# helpers


@contextmanager
def sqlmesh_context(out: Path) -> t.Iterator[Context]:
    """A Context on a translated project. The working directory is a scratch folder inside tmp: file exports
    currently resolve against it (see test_file_exposure_lands_in_the_seeknal_project), and must never land in the
    repository; it is two levels down so '../proj/...' cannot coincide with the real Seeknal project."""
    scratch = out.parent / ".cwd" / "sub"
    scratch.mkdir(parents=True, exist_ok=True)
    previous = os.getcwd()
    os.chdir(scratch)
    try:
        ctx = Context(paths=str(out))
        try:
            yield ctx
        finally:
            ctx.close()
    finally:
        os.chdir(previous)


def short(name: str) -> str:
    """'"warehouse"."transform"."orders_clean"' -> 'transform.orders_clean'."""
    table = exp.to_table(name, dialect="duckdb")
    return f"{table.db}.{table.name}"


def names(snapshot_ids: t.Iterable[t.Any]) -> t.Set[str]:
    return {short(s.name) for s in snapshot_ids}


def categories(plan) -> t.Dict[str, Cat]:
    return {short(s.name): s.change_category for s in plan.new_snapshots}


def backfilled(plan) -> t.Set[str]:
    return {short(si.snapshot_id.name) for si in plan.missing_intervals}


def env_tables(ctx: Context, env: str) -> t.Dict[str, str]:
    """Model -> the physical table the environment's view reads (from SQLMesh state)."""
    environment = ctx.state_reader.get_environment(env)
    assert environment is not None, f"environment {env} does not exist"
    return {short(s.name): s.table_name() for s in environment.snapshots}


def physical_tables(ctx: Context) -> t.Set[str]:
    df = ctx.fetchdf(
        "SELECT database_name || '.' || schema_name || '.' || table_name AS name FROM duckdb_tables() "
        "WHERE schema_name LIKE 'sqlmesh\\_\\_%' ESCAPE '\\'"
    )
    return set(df["name"])


def view_target(ctx: Context, schema: str, view: str) -> str:
    """The table an environment view selects from, read from DuckDB's catalog."""
    df = ctx.fetchdf(f"SELECT sql FROM duckdb_views() WHERE schema_name = '{schema}' AND view_name = '{view}'")
    assert len(df) == 1, f"no view {schema}.{view}"
    table = exp.maybe_parse(df["sql"][0], dialect="duckdb").find(exp.Select).find(exp.Table)
    return ".".join(part.name for part in table.parts)


def rows(ctx: Context, sql: str) -> t.List[tuple]:
    return [tuple(None if v != v else v for v in r) for r in ctx.fetchdf(sql).itertuples(index=False)]  # NaN -> None


def snapshot_intervals(ctx: Context, model: str) -> t.List[t.Tuple[int, int]]:
    snapshot_id = ctx.get_snapshot(model, raise_if_missing=True).snapshot_id
    return [tuple(i) for i in ctx.state_reader.get_snapshots([snapshot_id])[snapshot_id].intervals]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def clone(src: Path, tmp_path: Path) -> Path:
    """Copy a work folder (Seeknal project + translated output with its warehouse) into this test's tmp_path."""
    return Path(shutil.copytree(src, tmp_path / "work", ignore=shutil.ignore_patterns(".cache", "logs", ".cwd")))


def output_digest(out: Path) -> t.Dict[str, str]:
    """sha256 of every file translation writes (everything but the warehouse and SQLMesh's cache/logs)."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
        and p.relative_to(out).parts[0] not in RUNTIME_FOLDERS
        and not p.name.endswith(RUNTIME_SUFFIXES)
        and "__pycache__" not in p.parts
    }


@pytest.fixture
def audit_results(monkeypatch) -> t.List[t.Any]:
    """Every `AuditResult` SQLMesh computes while the test runs (the scheduler copies its evaluator, so patch the class)."""
    results: t.List[t.Any] = []
    original = SnapshotEvaluator.audit

    def recording(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        results.extend(out)
        return out

    monkeypatch.setattr(SnapshotEvaluator, "audit", recording)
    return results


# ---------------------------------------------------------------------------------------------------------------
# the mini project, translated and planned to prod once per module


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("base")
    proj = Path(shutil.copytree(MINI, root / "proj"))
    (proj / "target" / "exports" / "customer_orders.csv").unlink(missing_ok=True)  # the file exposure must write it again
    out = root / "out"
    translate_project(proj, out)
    with sqlmesh_context(out) as ctx:
        plan = ctx.plan("prod", no_prompts=True, auto_apply=True)
    return SimpleNamespace(root=root, proj=proj, out=out, plan=plan)


@pytest.fixture
def work(base, tmp_path) -> SimpleNamespace:
    """A private copy of the base work folder: prod already applied, state and warehouse included."""
    root = clone(base.root, tmp_path)
    return SimpleNamespace(root=root, proj=root / "proj", out=root / "out")


# 1 -------------------------------------------------------------------------------------------------------------


def test_prod_plan_builds_every_model_with_seeknal_values(base):
    plan = base.plan
    assert names(plan.new_snapshots) == MINI_MODELS
    assert set(categories(plan).values()) == {Cat.BREAKING}  # everything is new
    assert backfilled(plan) == MINI_MODELS

    with sqlmesh_context(base.out) as ctx:
        assert {short(m) for m in ctx.models} == MINI_MODELS
        for model in MINI_MODELS:  # the prod views read the tables the plan built
            schema, name = model.split(".")
            assert view_target(ctx, schema, name) == ctx.table_name(model, "prod")
            assert rows(ctx, f"SELECT COUNT(*) FROM {model}")[0][0] > 0, model

        # by hand from data/orders.csv: 4 orders, order 3 is cancelled, order 4 has no amount
        assert rows(ctx, "SELECT order_id, amount FROM source.orders ORDER BY order_id") == [
            (1, 10.5), (2, 20.0), (3, 5.0), (4, None),
        ]
        assert rows(ctx, "SELECT customer_id, region FROM source.customers ORDER BY 1") == [
            ("C1", "EU"), ("C2", "US"), ("C3", "EU"),
        ]
        # WHERE {{rules.completed}} drops order 3; COALESCE({{orders.amountCol}}, 0) gives order 4 amount 0
        assert rows(
            ctx, "SELECT order_id, customer_id, CAST(order_date AS VARCHAR), amount FROM transform.orders_clean ORDER BY 1"
        ) == [(1, "C1", "2024-01-01", 10.5), (2, "C1", "2024-01-02", 20.0), (4, "C3", "2024-01-03", 0.0)]
        # C1: 10.5 + 20.0 over 2 orders; C2 has only a cancelled order
        assert rows(ctx, "SELECT customer_id, region, total, n FROM transform.customer_orders ORDER BY 1") == [
            ("C1", "EU", 30.5, 2), ("C3", "EU", 0.0, 1),
        ]
        assert rows(
            ctx, "SELECT customer_id, CAST(event_time AS VARCHAR), total FROM feature_group.customer_features ORDER BY 1"
        ) == [("C1", "2024-01-02", 30.5), ("C3", "2024-01-03", 0.0)]
        assert rows(ctx, "SELECT order_id, amount FROM transform.big_orders ORDER BY 1") == [(1, 10.5), (2, 20.0)]


# 2 -------------------------------------------------------------------------------------------------------------


def test_added_column_is_non_breaking_and_children_reuse_prod_tables(work):
    edit(work.proj / "seeknal/transforms/orders_clean.yml", "AS amount, status", "AS amount, amount * 2 AS amount_x2, status")
    translate_project(work.proj, work.out)  # same output folder: the warehouse (and SQLMesh state) carries over

    with sqlmesh_context(work.out) as ctx:
        before = physical_tables(ctx)
        prod_before = env_tables(ctx, "prod")
        plan = ctx.plan("dev", no_prompts=True, auto_apply=True, include_unmodified=True)

        assert names(plan.directly_modified) == {"transform.orders_clean"}
        (direct,) = plan.directly_modified
        assert names(plan.indirectly_modified[direct]) == ORDERS_CLEAN_CHILDREN
        assert categories(plan) == {
            "transform.orders_clean": Cat.NON_BREAKING,
            **{child: Cat.INDIRECT_NON_BREAKING for child in ORDERS_CLEAN_CHILDREN},
        }
        # only the changed node is computed; the children keep their prod data
        assert backfilled(plan) == {"transform.orders_clean"}

        dev = env_tables(ctx, "dev")
        assert set(dev) == MINI_MODELS
        assert dev["transform.orders_clean"] != prod_before["transform.orders_clean"]
        for model in MINI_MODELS - {"transform.orders_clean"}:
            assert dev[model] == prod_before[model], model
            schema, name = model.split(".")
            assert view_target(ctx, f"{schema}__dev", name) == prod_before[model], model
        assert physical_tables(ctx) - before == {dev["transform.orders_clean"]}

        assert env_tables(ctx, "prod") == prod_before
        # `amount` in `amount * 2` is the source column, so order 4 (no amount) stays NULL
        assert rows(ctx, "SELECT order_id, amount_x2 FROM transform__dev.orders_clean ORDER BY 1") == [
            (1, 21.0), (2, 40.0), (4, None),
        ]
        prod_columns = set(ctx.fetchdf("SELECT * FROM transform.orders_clean LIMIT 0").columns)
        assert prod_columns == {"order_id", "customer_id", "order_date", "amount", "status"}


# 2 + 3 ---------------------------------------------------------------------------------------------------------


def test_changed_filter_is_breaking_and_dev_leaves_prod_untouched(work):
    edit(work.proj / "seeknal/transforms/orders_clean.yml", "WHERE {{rules.completed}}", "WHERE {{rules.completed}} OR status = 'cancelled'")
    translate_project(work.proj, work.out)

    with sqlmesh_context(work.out) as ctx:
        before = physical_tables(ctx)
        prod_before = env_tables(ctx, "prod")
        prod_rows_before = rows(ctx, "SELECT * FROM transform.customer_orders ORDER BY 1")
        plan = ctx.plan("dev", no_prompts=True, auto_apply=True, include_unmodified=True)

        assert names(plan.directly_modified) == {"transform.orders_clean"}
        (direct,) = plan.directly_modified
        assert names(plan.indirectly_modified[direct]) == ORDERS_CLEAN_CHILDREN
        assert categories(plan) == {
            "transform.orders_clean": Cat.BREAKING,
            **{child: Cat.INDIRECT_BREAKING for child in ORDERS_CLEAN_CHILDREN},
        }
        # the changed node and all its children are rebuilt; the sources are not
        assert backfilled(plan) == {"transform.orders_clean"} | ORDERS_CLEAN_CHILDREN

        dev = env_tables(ctx, "dev")
        rebuilt = {"transform.orders_clean"} | ORDERS_CLEAN_CHILDREN
        for model in MINI_MODELS:
            assert (dev[model] != prod_before[model]) == (model in rebuilt), model
        assert physical_tables(ctx) - before == {dev[m] for m in rebuilt}

        # 3: prod is untouched, dev sees the cancelled order of C2
        assert env_tables(ctx, "prod") == prod_before
        assert rows(ctx, "SELECT * FROM transform.customer_orders ORDER BY 1") == prod_rows_before == [
            ("C1", "EU", 30.5, 2), ("C3", "EU", 0.0, 1),
        ]
        assert rows(ctx, "SELECT customer_id, region, total, n FROM transform__dev.customer_orders ORDER BY 1") == [
            ("C1", "EU", 30.5, 2), ("C2", "US", 5.0, 1), ("C3", "EU", 0.0, 1),
        ]
        assert rows(ctx, "SELECT customer_id, total FROM feature_group__dev.customer_features ORDER BY 1") == [
            ("C1", 30.5), ("C2", 5.0), ("C3", 0.0),
        ]
        assert rows(ctx, "SELECT customer_id, total FROM feature_group.customer_features ORDER BY 1") == [
            ("C1", 30.5), ("C3", 0.0),
        ]


# 4 -------------------------------------------------------------------------------------------------------------


def _translate_copy(fixture: Path, tmp_path: Path) -> SimpleNamespace:
    proj = Path(shutil.copytree(fixture, tmp_path / "proj"))
    out = tmp_path / "out"
    translate_project(proj, out, start="2024-01-01")  # the fixtures' data starts there; intervals are asserted below
    return SimpleNamespace(proj=proj, out=out)


def test_failing_warn_checks_do_not_block_the_plan(tmp_path, audit_results):
    work = _translate_copy(AUDITS, tmp_path)
    with sqlmesh_context(work.out) as ctx:
        ctx.plan("prod", no_prompts=True, auto_apply=True)

        results = {(r.audit.name, r.blocking, r.count) for r in audit_results if r.model and short(r.model.fqn) == "transform.orders_checked"}
        assert results == {
            ("not_null", True, 0),  # order_id, severity error (default): passes
            ("transform__orders_checked_row_count_2", True, 0),  # row_count min 1: passes
            ("not_null_non_blocking", False, 1),  # customer_id, severity warn: order 3 fails it
            ("rule__amount_range__range_0", False, 1),  # rule severity warn: order 4's 5000 fails it
        }
        assert ctx.state_reader.get_environment("prod") is not None
        assert rows(ctx, "SELECT COUNT(*) FROM transform.orders_checked") == [(4,)]
        assert rows(ctx, "SELECT n, total FROM transform.order_totals") == [(4, 5060.0)]


@pytest.mark.parametrize(
    "node_file, failing_audit",
    [
        ("seeknal/rules/amount_range.yml", "rule__amount_range__range_0"),  # rule node, params.severity
        ("seeknal/transforms/orders_checked.yml", "not_null"),  # inline audit severity
    ],
    ids=["rule", "inline"],
)
def test_failing_error_checks_block_the_plan(tmp_path, monkeypatch, audit_results, node_file, failing_audit):
    proj = Path(shutil.copytree(AUDITS, tmp_path / "proj"))
    edit(proj / node_file, "severity: warn", "severity: error")
    out = tmp_path / "out"
    translate_project(proj, out)

    with sqlmesh_context(out) as ctx:
        failed: t.List[t.Any] = []
        original = ctx.console.log_failed_models
        monkeypatch.setattr(ctx.console, "log_failed_models", lambda errors: (failed.extend(errors), original(errors)))
        with pytest.raises(PlanError):
            ctx.plan("prod", no_prompts=True, auto_apply=True)

        blocking_failures = {r.audit.name for r in audit_results if r.blocking and r.count}
        assert blocking_failures == {failing_audit}
        assert [short(e.node.snapshot_name) for e in failed] == ["transform.orders_checked"]
        cause = failed[0].__cause__
        assert isinstance(cause, NodeAuditsErrors)
        assert [e.audit_name for e in cause.errors] == [failing_audit]

        assert ctx.state_reader.get_environment("prod") is None  # nothing was promoted
        # physical tables are named <schema>__<table>__<version>
        built = {name.split(".")[-1].rsplit("__", 1)[0].replace("__", ".", 1) for name in physical_tables(ctx)}
        assert "transform.order_totals" not in built  # the child of the failed model never ran
        assert {"source.orders", "transform.orders_checked"} <= built


# 5 -------------------------------------------------------------------------------------------------------------


def test_incremental_nodes_process_only_missing_intervals(tmp_path):
    work = _translate_copy(INCREMENTAL, tmp_path)
    day = lambda d: to_timestamp(f"2024-01-{d:02d}")  # noqa: E731

    # profiles.yml's connection x is a gateway whose ${X_PASSWORD:unused} renders through SQLMesh's Jinja pass
    settings = load_config_from_yaml(work.out / "settings.yaml")
    assert settings["gateways"]["x"]["connection"]["type"] == "postgres"
    assert settings["gateways"]["x"]["connection"]["password"] == "unused"

    with sqlmesh_context(work.out) as ctx:
        for model, lookback in (("transform.daily_events", 1), ("source.events_fresh", 0)):
            kind = ctx.get_model(model).kind
            assert kind.name == "INCREMENTAL_BY_TIME_RANGE", model
            assert (kind.lookback or 0) == lookback, model
        assert ctx.get_model("transform.daily_events").kind.time_column.column.name == "order_date"
        assert ctx.get_model("source.events_fresh").kind.time_column.column.name == "event_date"

        # A prod plan cannot take start/end: its end is the last complete interval before execution_time.
        plan = ctx.plan("prod", no_prompts=True, auto_apply=True, execution_time="2024-01-04")
        assert {short(si.snapshot_id.name): si.intervals for si in plan.missing_intervals}["transform.daily_events"] == [
            (day(1), day(2)), (day(2), day(3)), (day(3), day(4)),
        ]
        for model in ("transform.daily_events", "source.events_fresh"):
            assert snapshot_intervals(ctx, model) == [(day(1), day(4))], model
        assert rows(ctx, "SELECT event_id FROM transform.daily_events ORDER BY 1") == [(1,), (2,), (3,)]
        assert rows(ctx, "SELECT event_id FROM source.events_fresh ORDER BY 1") == [(1,), (2,), (3,)]

        # New rows: 6 in an old interval, 7 in the interval just before the new ones (the lookback), 8 in a new one.
        with open(work.proj / "data" / "events.csv", "a") as f:
            f.write("6,2024-01-01,60\n7,2024-01-03,70\n8,2024-01-05,80\n")
        ctx.run("prod", execution_time="2024-01-06")

        for model in ("transform.daily_events", "source.events_fresh"):
            assert snapshot_intervals(ctx, model) == [(day(1), day(6))], model
        # with lookback 1 the 2024-01-03 interval is recomputed (row 7); 2024-01-01 is not (no row 6)
        assert rows(ctx, "SELECT event_id FROM transform.daily_events ORDER BY 1") == [(1,), (2,), (3,), (4,), (5,), (7,), (8,)]
        # no lookback: only the two new days
        assert rows(ctx, "SELECT event_id FROM source.events_fresh ORDER BY 1") == [(1,), (2,), (3,), (4,), (5,), (8,)]
        # the FULL source was simply recomputed and has every row
        assert rows(ctx, "SELECT COUNT(*) FROM source.events") == [(8,)]


# 6 -------------------------------------------------------------------------------------------------------------


def test_retranslation_is_byte_identical_and_plans_no_changes(work):
    first = output_digest(work.out)
    assert "settings.yaml" in first and "models/transform/orders_clean.sql" in first

    # meanwhile, a fresh process with another hash seed (set ordering) translates into a sibling folder at the
    # same depth, so the relative paths it writes are the same
    sibling = work.root / "out_fresh"
    code = "import sys; from seeknal_sqlmesh.translators import translate_project; translate_project(sys.argv[1], sys.argv[2])"
    fresh = subprocess.Popen(
        [sys.executable, "-c", code, str(work.proj), str(sibling)],
        env={**os.environ, "PYTHONHASHSEED": "4242"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        translate_project(work.proj, work.out)
        assert output_digest(work.out) == first

        with sqlmesh_context(work.out) as ctx:
            prod_before = env_tables(ctx, "prod")
            plan = ctx.plan("prod", no_prompts=True, auto_apply=True)
            assert not plan.has_changes
            assert not plan.context_diff.has_changes
            assert not plan.new_snapshots and not plan.directly_modified
            assert env_tables(ctx, "prod") == prod_before
    finally:
        output, _ = fresh.communicate(timeout=120)
    assert fresh.returncode == 0, output.decode()
    # the one difference a folder name makes: the settings name the data area beside it (../out_fresh.data)
    settings = sibling / "settings.yaml"
    settings.write_text(settings.read_text().replace("../out_fresh.data", "../out.data"))
    assert output_digest(sibling) == first


# ---------------------------------------------------------------------------------------------------------------
# regressions for translator bugs these tests found (macros lost on a second load; exports resolved against the cwd)


def test_project_loads_twice_in_one_process(work):
    with sqlmesh_context(work.out):
        pass
    # re-translate a change, so SQLMesh's model cache misses and the models' macros are resolved again
    edit(work.proj / "seeknal/transforms/orders_clean.yml", "AS amount, status", "AS amount, 1 AS one, status")
    translate_project(work.proj, work.out)
    ctx = Context(paths=str(work.out))  # a second load in one process: what a notebook, the LSP or ctx.load() does
    ctx.close()


def test_file_exposure_lands_in_the_seeknal_project(base):
    # base deleted proj/target/exports/customer_orders.csv before its prod plan; after_all must write it again
    export = base.proj / "target" / "exports" / "customer_orders.csv"
    assert export.is_file()
    assert export.read_text().splitlines() == ["customer_id,region,total,n", "C1,EU,30.5,2", "C3,EU,0.0,1"]


# file exposures in a dev environment (a plain `plan dev`, without --include-unmodified) ---------------------------


def test_dev_plan_exports_only_what_it_changed(work):
    prod_export = work.proj / "target" / "exports" / "customer_orders.csv"
    dev_export = work.root / "out.data" / "exports" / "dev" / "customer_orders.csv"  # the data area, not the project
    # a change that does not reach the exported model: dev has no view of it, so nothing is exported for dev
    edit(work.proj / "seeknal/pipelines/py_nodes.py", "amount > 5", "amount > 15")
    translate_project(work.proj, work.out)
    with sqlmesh_context(work.out) as ctx:
        plan = ctx.plan("dev", no_prompts=True, auto_apply=True)
        assert names(plan.directly_modified) == {"transform.big_orders"}
    assert not dev_export.exists()

    # a change upstream of the exported model: dev exports its own version into the data area
    prod_before = prod_export.read_text() if prod_export.exists() else None
    edit(work.proj / "seeknal/transforms/orders_clean.yml", "WHERE {{rules.completed}}", "WHERE {{rules.completed}} OR status = 'cancelled'")
    translate_project(work.proj, work.out)
    with sqlmesh_context(work.out) as ctx:
        ctx.plan("dev", no_prompts=True, auto_apply=True)
    assert dev_export.read_text().splitlines() == ["customer_id,region,total,n", "C1,EU,30.5,2", "C2,US,5.0,1", "C3,EU,0.0,1"]
    assert (prod_export.read_text() if prod_export.exists() else None) == prod_before  # prod's file untouched
    assert sorted(p.name for p in prod_export.parent.iterdir()) == ["customer_orders.csv"]  # nothing of dev's there
