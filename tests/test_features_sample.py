"""The feature store on the sample project: its feature groups fully planned by SQLMesh, then the registry, a
training set checked by hand, replay (and its refusal once the janitor removed a snapshot), environments, online
values and the entity views.

The project copy drops its file exposures (their `after_all` exports need every exported model) and the plan
selects the feature-store models with everything upstream: every feature group is planned in full, the rest of
the project is not needed here (tests/test_parity_seeknal.py plans all of it).
"""

from __future__ import annotations

import json
import os
import shutil
import typing as t
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from seeknal_sqlmesh.features import FeatureStoreError, get_historical_features, get_online_features
from seeknal_sqlmesh.features.store import FeatureStore
from seeknal_sqlmesh.features.training import digest, read_manifest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXECUTION_TIME = "2024-04-05 23:59:59"  # as the parity test: intervals up to the golden run date 2024-04-04
SELECT = ["+feature_store.*"]  # the feature-store models and everything upstream of them
FEATURES = [
    "customer_order_features.order_count", "customer_order_features.discount_share", "customer_engagement_features.sessions",
    "product_sales_features.units_sold", "product_sales_features.revenue", "product_review_features.avg_rating",
]
N = None
# (customer_id, product_id, event_time) -> (order_count, discount_share, sessions, units_sold, revenue, avg_rating),
# worked out by hand from data/orders.json and the groups' rows (see the comments)
HAND_CHECKED = [
    # Feb row of CUST-00001 (orders 72, 97, 105, no discount), her Feb sessions; P-0003's week of Feb 12, review of Feb 12
    (("CUST-00001", "P-0003", "2024-02-15 12:00:00"), (3, 0.0, 1, 4, 125.13, 3.0)),
    # one second before February: January (orders 1, 60, 61; one with NEWYEAR24), no sessions yet; week of Jan 29
    (("CUST-00001", "P-0003", "2024-01-31 23:59:59"), (3, 0.3333, N, 2, 64.5, 5.0)),
    # exactly at an event time: that row counts (7 March orders, 3 with a code)
    (("CUST-00001", "P-0003", "2024-03-01 00:00:00"), (7, 0.4286, 1, 2, 64.5, 4.0)),
    (("CUST-00001", "P-0003", "2023-12-31 00:00:00"), (N, N, N, N, N, N)),  # before any history
    (("CUST-00007", None, "2024-01-20 00:00:00"), (N, N, 1, N, N, N)),  # sessions in January, first orders in February
    (("CUST-99999", "P-9999", "2024-03-10 00:00:00"), (N, N, N, N, N, N)),  # keys without history
    ((None, "P-0003", "2024-03-10 00:00:00"), (N, N, N, 2, 64.5, 4.0)),  # NULL key: only the product's features
    (("CUST-00001", "P-0003", "2024-02-15 12:00:00"), (3, 0.0, 1, 4, 125.13, 3.0)),  # a duplicate spine row stays
    # March orders of CUST-00007; P-0003's latest week before Mar 10 is Feb 26 (Mar 11 is after)
    (("CUST-00007", "P-0003", "2024-03-10 00:00:00"), (2, 0.0, 1, 2, 64.5, 4.0)),
]


def spine_frame() -> pd.DataFrame:
    rows = [k for k, _ in HAND_CHECKED]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "product_id": [r[1] for r in rows],
                         "event_time": pd.to_datetime([r[2] for r in rows]), "label": list(range(len(rows)))})


def values(frame: pd.DataFrame, columns: t.Sequence[str]) -> t.List[tuple]:
    return [tuple(None if pd.isna(v) else (round(v, 4) if isinstance(v, float) else v) for v in row)
            for row in frame[list(columns)].itertuples(index=False)]


def plan(out: Path, env: str = "prod") -> None:
    from sqlmesh import Context

    ctx = Context(paths=str(out))
    try:
        ctx.plan(env, no_prompts=True, auto_apply=True, execution_time=EXECUTION_TIME, select_models=SELECT)
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SimpleNamespace:
    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "true"
    from seeknal_sqlmesh.translators import translate_project

    work = tmp_path_factory.mktemp("features")
    project = Path(shutil.copytree(ROOT / "sample_project", work / "sample_project", ignore=shutil.ignore_patterns("target")))
    shutil.rmtree(project / "seeknal" / "exposures")
    out = work / "out"
    translate_project(project, out, start="2024-01-01")
    plan(out)
    spine = work / "spine.parquet"
    spine_frame().to_parquet(spine, index=False)
    store = FeatureStore(out, "prod")
    yield SimpleNamespace(work=work, project=project, out=out, spine=spine, store=store)
    store.close()


def test_feature_groups_are_incremental_by_event_time(sample):
    store = sample.store
    refs = store.snapshots([g.model for g in store.registry.groups.values()])
    assert {m: (r.kind, r.time_column) for m, r in refs.items()} == {
        "feature_group.customer_engagement_features": ("INCREMENTAL_BY_TIME_RANGE", "feature_month"),
        "feature_group.customer_order_features": ("INCREMENTAL_BY_TIME_RANGE", "feature_month"),
        "feature_group.product_review_features": ("INCREMENTAL_BY_TIME_RANGE", "event_time"),
        "feature_group.product_sales_features": ("INCREMENTAL_BY_TIME_RANGE", "event_time"),
    }
    assert {r.processed_until for r in refs.values()} == {datetime(2024, 4, 5)}


def test_registry_lists_entities_groups_features_and_versions(sample):
    overview = sample.store.overview()
    assert [(e["name"], e["join_keys"], e["feature_groups"], e["view"]) for e in overview["entities"]] == [
        ("customer", ["customer_id"], ["customer_engagement_features", "customer_order_features"], "feature_store.entity_customer"),
        ("product", ["product_id"], ["product_review_features", "product_sales_features"], "feature_store.entity_product"),
    ]
    env = sample.store.context.state_reader.get_environment("prod")
    identifiers = {s.name.split(".")[-1].strip('"'): s.identifier for s in env.snapshots}
    for group in overview["feature_groups"]:
        assert group["fingerprints"] == {"prod": identifiers[group["name"]]}
    info = sample.store.describe_group("customer_order_features")
    assert (info["entity"], info["join_keys"], info["event_time"], info["owner"], info["online_ttl"]) == (
        "customer", ["customer_id"], "feature_month", "ml-platform@shopline.example", "7d")
    features = {f["name"]: (f["type"], f["dtype"], f["declared"]) for f in info["features"]}
    assert features == {
        "order_count": ("BIGINT", "int", True), "completed_revenue": ("DOUBLE", "float", True),
        "avg_order_value": ("DOUBLE", "float", True), "discount_share": ("DOUBLE", "float", True),
        # not declared in `features:`, but an output column: Seeknal stores it, so it is a feature (sample README #3)
        "latest_shipping_country": ("TEXT", None, False),
    }
    assert info["environments"]["prod"]["fingerprint"] == identifiers["customer_order_features"]
    with pytest.raises(FeatureStoreError, match="has no feature 'nope'.*features: order_count, completed_revenue"):
        sample.store.registry.resolve(["customer_order_features.nope"])


def test_hand_checked_training_set_in_both_forms(sample):
    columns = [f.split(".")[1] for f in FEATURES]
    for form in ("asof", "portable"):
        frame = sample.store.historical(spine_frame(), FEATURES, form=form).to_pandas()
        assert list(frame.columns) == ["customer_id", "product_id", "event_time", "label", *columns]
        assert list(frame["label"]) == list(range(len(HAND_CHECKED)))  # every spine row, in order
        assert values(frame, columns) == [v for _, v in HAND_CHECKED], form


def test_ttl_drops_values_older_than_it(sample):
    frame = sample.store.historical(spine_frame(), FEATURES, ttl={"product_sales_features": "7d"}).to_pandas()
    got = values(frame, ["units_sold", "revenue", "avg_rating"])
    # Mar 10: P-0003's last sales week (Feb 26) is 13 days old; the review TTL is not set
    assert got[6] == (None, None, 4.0) and got[8] == (None, None, 4.0)
    assert got[0] == (4, 125.13, 3.0) and got[2] == (2, 64.5, 4.0)  # 3.5 and 4 days old: kept


def test_python_api_writes_manifest_and_replays(sample):
    output = sample.work / "train.parquet"
    frame = get_historical_features(str(sample.spine), FEATURES, project=sample.out, output=output)
    manifest = read_manifest(sample.work / "train.manifest.json")
    assert manifest == read_manifest(output)  # the same manifest is embedded in the Parquet file
    assert frame.attrs["seeknal_manifest"] == manifest
    assert manifest["environment"] == "prod" and manifest["spine"]["rows"] == len(HAND_CHECKED)
    group = manifest["feature_groups"]["customer_order_features"]
    ref = sample.store.snapshots(["feature_group.customer_order_features"])["feature_group.customer_order_features"]
    assert (group["identifier"], group["version"], group["table"]) == (ref.identifier, ref.version, ref.table)
    assert manifest["output"]["sha256"] == digest(__import__("pyarrow.parquet").parquet.read_table(output).replace_schema_metadata())
    replayed = sample.store.replay(output)
    assert replayed.manifest["output"]["sha256"] == manifest["output"]["sha256"]


def test_cli(sample):
    from seeknal_sqlmesh.cli import cli

    runner = CliRunner()
    p = ["-p", str(sample.out)]
    listed = runner.invoke(cli, ["features", "list", *p, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert {g["feature_group"] for g in json.loads(listed.stdout)} == {
        "customer_engagement_features", "customer_order_features", "product_review_features", "product_sales_features"}
    shown = runner.invoke(cli, ["features", "show", "customer_order_features", *p])
    assert shown.exit_code == 0 and "feature_month" in shown.output and "latest_shipping_country" in shown.output
    assert runner.invoke(cli, ["features", "show", "customer", *p]).exit_code == 0

    out = sample.work / "cli.parquet"
    made = runner.invoke(cli, ["features", "historical", *p, "--spine", str(sample.spine), "--features", ",".join(FEATURES[:3]),
                               "--features", FEATURES[3], "--ttl", "product_sales_features=7d", "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert (sample.work / "cli.manifest.json").is_file()
    frame = pd.read_parquet(out)
    assert values(frame, ["order_count", "units_sold"])[:3] == [(3, 4), (3, 2), (7, 2)]
    replayed = runner.invoke(cli, ["features", "historical", "--replay", str(sample.work / "cli.manifest.json")])
    assert replayed.exit_code == 0 and "identical" in replayed.output, replayed.output

    served = runner.invoke(cli, ["features", "online", *p, "--entity", "customer", "--keys", "CUST-00001,CUST-00007",
                                 "--as-of", "2024-03-05", "--format", "json"])
    assert served.exit_code == 0, served.output
    records = json.loads(served.stdout)
    assert [(r["customer_id"], r["order_count"]) for r in records] == [("CUST-00001", 7), ("CUST-00007", 2)]

    # errors for people: exit code 2, what and where
    bad = runner.invoke(cli, ["features", "historical", *p, "--spine", str(sample.spine), "--features", "customer_order_features.nope", "-o", str(out)])
    assert bad.exit_code == 2 and "has no feature 'nope'" in bad.output
    nowhere = runner.invoke(cli, ["features", "list", "-p", str(sample.work)])
    assert nowhere.exit_code == 2 and "neither a Seeknal project" in nowhere.output and "nor a translated one" in nowhere.output
    offline = runner.invoke(cli, ["features", "online", *p, "--entity", "customer", "--keys", "X", "--features", "customer_engagement_features.sessions"])
    assert offline.exit_code == 2 and "not served online" in offline.output
    dev = runner.invoke(cli, ["features", "historical", *p, "--env", "nope", "--spine", str(sample.spine), "--features", FEATURES[0], "-o", str(out)])
    assert dev.exit_code == 2 and "environment 'nope' does not exist" in dev.output
    unknown_env = runner.invoke(cli, ["features", "show", "customer_order_features", *p, "--env", "nope"])
    assert unknown_env.exit_code == 2 and "environment 'nope' does not exist" in unknown_env.output


def test_online_values_are_the_latest_row_per_key(sample):
    con = duckdb.connect()
    table = sample.store.snapshots(["feature_group.product_sales_features"])["feature_group.product_sales_features"].table
    history = sample.store.context.engine_adapter.fetchdf(f"SELECT * FROM {table}")
    con.register("history", history)
    expected = {r[0]: r[1:] for r in con.execute(
        "SELECT product_id, arg_max(units_sold, event_time), max(event_time) FROM history GROUP BY 1").fetchall()}
    keys = sorted(expected)[:6] + ["P-9999"]
    as_of = datetime(2024, 4, 3)
    frame = get_online_features("product", keys, ["product_sales_features.units_sold"], project=sample.out, as_of=as_of, ttl=None)
    assert values(frame, ["product_id", "units_sold"]) == [(k, expected[k][0] if k in expected else None) for k in keys]
    # the declared TTL (1d): only keys whose latest week started within a day of as_of keep a value
    frame = sample.store.online("product", keys, ["product_sales_features.units_sold"], as_of=datetime(2024, 3, 25, 12))
    assert values(frame, ["units_sold"]) == [(expected[k][0] if k in expected and pd.Timestamp(expected[k][1]) >= pd.Timestamp("2024-03-24 12:00") else None,)
                                           for k in keys]
    with pytest.raises(FeatureStoreError, match="not served online"):
        sample.store.online("product", ["P-0001"], ["product_review_features.avg_rating"])


def test_entity_views_keep_every_group_row(sample):
    fetch = sample.store.context.engine_adapter.fetchdf
    view = fetch("SELECT * FROM feature_store.entity_product")
    sales = fetch("SELECT product_id, event_time FROM feature_group.product_sales_features")
    reviews = fetch("SELECT product_id, event_time FROM feature_group.product_review_features")
    points = {(p, pd.Timestamp(e)) for p, e in [*sales.itertuples(index=False), *reviews.itertuples(index=False)]}
    assert len(view) == len(points) > len(sales)  # Seeknal keeps only the review weeks (sample README #5)
    assert {(p, pd.Timestamp(e)) for p, e in view[["product_id", "event_time"]].itertuples(index=False)} == points
    assert view["product_sales_features"].notna().sum() == len(sales)
    assert view["product_review_features"].notna().sum() == len(reviews)
    customer = fetch("SELECT * FROM feature_store.entity_customer WHERE customer_id = 'CUST-00001' ORDER BY event_time")
    # joined on each group's own event-time column feature_month (Seeknal needs a column named event_time, README #4)
    field = lambda struct, name: struct[name] if isinstance(struct, dict) else None  # noqa: E731  (NULL struct: no row)
    assert [(str(e)[:10], field(o, "order_count"), field(s, "sessions")) for e, o, s in customer[
        ["event_time", "customer_order_features", "customer_engagement_features"]].itertuples(index=False)] == [
        ("2024-01-01", 3, None), ("2024-02-01", 3, 1), ("2024-03-01", 7, 1)]


def test_cli_writes_typed_files(sample):
    """Every `seeknal features` command writes CSV, JSON and Parquet (format from -o's extension, or --format) that
    read back with their types; `-p` also takes the Seeknal project (its translation in target/sqlmesh)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from seeknal_sqlmesh.cli import cli

    default_output = sample.project / "target" / "sqlmesh"
    if not default_output.exists():
        default_output.parent.mkdir(exist_ok=True)
        default_output.symlink_to(sample.out, target_is_directory=True)
    p = ["-p", str(sample.project)]
    folder = sample.work / "formats"
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(cli, ["features", *args])
        assert result.exit_code == 0, result.output
        return result

    def read(path: Path) -> t.List[t.Dict[str, t.Any]]:
        return json.loads(path.read_text())

    # list: one row per feature group and environment
    for ext in ("csv", "json", "parquet"):
        run("list", *p, "-o", str(folder / f"list.{ext}"))
    listed = pq.read_table(folder / "list.parquet")
    assert listed.schema.field("features").type == pa.int64() and listed.schema.field("online").type == pa.bool_()
    assert listed.schema.field("processed_until").type == pa.timestamp("us")
    as_csv = pacsv.read_csv(folder / "list.csv")
    assert pa.types.is_timestamp(as_csv.schema.field("processed_until").type)
    assert as_csv.schema.field("features").type == pa.int64() and as_csv.schema.field("online").type == pa.bool_()
    assert as_csv.column("feature_group").to_pylist() == listed.column("feature_group").to_pylist()
    rows = {r["feature_group"]: r for r in listed.to_pylist()}
    assert (rows["customer_order_features"]["features"], rows["customer_order_features"]["online"]) == (5, True)
    assert {r["environment"] for r in rows.values()} == {"prod"}
    assert {r["processed_until"] for r in rows.values()} == {datetime(2024, 4, 5)}
    as_json = {r["feature_group"]: r for r in read(folder / "list.json")}
    assert as_json["customer_order_features"]["features"] == 5 and as_json["product_review_features"]["online"] is False
    assert datetime.fromisoformat(as_json["customer_order_features"]["processed_until"]) == datetime(2024, 4, 5)
    entities = json.loads(run("list", *p, "--entities", "--format", "json").stdout)
    assert [(e["entity"], e["entity_view"]) for e in entities] == [
        ("customer", "feature_store.entity_customer"), ("product", "feature_store.entity_product")]
    drawn = run("list", *p).stdout  # not a terminal: plain text, no box drawing, no fixed width
    assert "Entities" in drawn and "customer_order_features" in drawn and "━" not in drawn and "│" not in drawn

    # show: a feature group's features, an entity's feature groups
    for ext in ("csv", "json", "parquet"):
        run("show", "customer_order_features", *p, "-o", str(folder / f"show.{ext}"))
    shown = pq.read_table(folder / "show.parquet")
    assert shown.schema.field("declared").type == pa.bool_()
    assert [(r["feature"], r["type"], r["declared"]) for r in shown.to_pylist()][::4] == [
        ("order_count", "BIGINT", True), ("latest_shipping_country", "TEXT", False)]
    columns = ["feature", "type", "declared"]
    assert pacsv.read_csv(folder / "show.csv").select(columns).equals(shown.select(columns))
    assert [r["declared"] for r in read(folder / "show.json")] == [True, True, True, True, False]
    members = json.loads(run("show", "customer", *p, "--format", "json").stdout)
    assert [(m["feature_group"], m["features"], m["online"]) for m in members] == [
        ("customer_engagement_features", 5, False), ("customer_order_features", 5, True)]

    # online: the engine's types
    keys = ["--entity", "customer", "--keys", "CUST-00001,CUST-00007", "--as-of", "2024-03-05"]
    for ext in ("csv", "json", "parquet"):
        run("online", *p, *keys, "-o", str(folder / f"online.{ext}"))
    served = pq.read_table(folder / "online.parquet")
    assert served.schema.field("order_count").type == pa.int64()
    assert served.schema.field("discount_share").type == pa.float64()
    assert served.select(["customer_id", "order_count"]).to_pylist() == [
        {"customer_id": "CUST-00001", "order_count": 7}, {"customer_id": "CUST-00007", "order_count": 2}]
    assert pacsv.read_csv(folder / "online.csv").equals(served)
    assert [r["order_count"] for r in read(folder / "online.json")] == [7, 2]

    # historical: a spine with a DATE column besides the timestamp; each file gets its manifest
    spine = spine_frame()
    spine["day"] = spine["event_time"].dt.date
    spine_path = folder / "spine.parquet"
    spine.to_parquet(spine_path, index=False)
    request = ["--spine", str(spine_path), "--features", "customer_order_features.order_count,product_sales_features.revenue"]
    hashes = {}
    for ext in ("csv", "json", "parquet"):  # different stems: one manifest sidecar each
        made = run("historical", *p, *request, "-o", str(folder / f"train_{ext}.{ext}"))
        assert f"train_{ext}.manifest.json" in made.stdout
        hashes[ext] = read_manifest(folder / f"train_{ext}.manifest.json")["output"]["sha256"]
    assert len(set(hashes.values())) == 1  # the same rows, whatever the file format
    trained = pq.read_table(folder / "train_parquet.parquet")
    assert read_manifest(folder / "train_parquet.parquet")["output"]["sha256"] == hashes["parquet"]
    types = {f.name: f.type for f in trained.schema}
    assert pa.types.is_timestamp(types["event_time"]) and types["day"] == pa.date32()
    assert types["label"] == pa.int64() and types["order_count"] == pa.int64() and types["revenue"] == pa.float64()
    as_csv = pacsv.read_csv(folder / "train_csv.csv")
    assert pa.types.is_timestamp(as_csv.schema.field("event_time").type) and as_csv.schema.field("day").type == pa.date32()
    assert as_csv.column("order_count").to_pylist() == trained.column("order_count").to_pylist()
    assert as_csv.schema.field("label").type == pa.int64()
    first = read(folder / "train_json.json")[0]
    assert (first["day"], first["event_time"], first["label"], first["order_count"]) == ("2024-02-15", "2024-02-15T12:00:00", 0, 3)
    replayed = run("historical", "--replay", str(folder / "train_csv.manifest.json"))
    assert "identical" in replayed.stdout
    assert "identical" in run("historical", "--replay", str(folder / "train_json.json")).stdout  # via its sidecar
    # --format wins over the extension; without -o the rows are printed and the summary goes to stderr
    run("historical", *p, *request, "--format", "csv", "-o", str(folder / "train.data"))
    assert pacsv.read_csv(folder / "train.data").num_rows == len(HAND_CHECKED)
    printed = run("historical", *p, *request, "--format", "csv")
    assert printed.stdout.splitlines()[0].startswith("customer_id,product_id,event_time")
    assert len(printed.stdout.splitlines()) == len(HAND_CHECKED) + 1 and "no manifest" in printed.stderr
    wrong = runner.invoke(cli, ["features", "historical", *p, *request, "-o", str(folder / "train.txt")])
    assert wrong.exit_code == 2 and "a training set is written as parquet, csv, json" in wrong.output


@pytest.fixture(scope="module")
def dev_change(sample) -> SimpleNamespace:
    """A training set built from prod, then a breaking change to customer_order_features planned in dev."""
    output = sample.work / "before.parquet"
    before = sample.store.historical(str(sample.spine), FEATURES[:1], output=output)
    model = sample.out / "models" / "feature_group" / "customer_order_features.sql"
    text = model.read_text()
    assert "COUNT(*) AS order_count" in text
    prod_ref = sample.store.snapshots(["feature_group.customer_order_features"])["feature_group.customer_order_features"]
    model.write_text(text.replace("COUNT(*) AS order_count", "COUNT(*) + 100 AS order_count"))
    plan(sample.out, "dev")
    return SimpleNamespace(before=before, prod_ref=prod_ref)


def test_dev_environment_resolves_through_environment_tables(sample, dev_change, monkeypatch):
    """The store asks `EnvironmentTables` which snapshot and table an environment uses: dev reads the changed
    group's dev table, prod keeps its own."""
    from seeknal_sqlmesh.cli import cli
    from seeknal_sqlmesh.runtime.environments import EnvironmentTables
    from seeknal_sqlmesh.sqlkit import to_sql

    model = "feature_group.customer_order_features"
    asked: t.List[t.Tuple[str, t.Tuple[str, ...]]] = []
    original = EnvironmentTables.snapshots

    def spy(self, models):
        asked.append((self.name, tuple(models)))
        return original(self, models)

    monkeypatch.setattr(EnvironmentTables, "snapshots", spy)
    with FeatureStore(sample.out, "dev") as dev:
        dev_ref = dev.snapshots([model])[model]
        state = dev.context.state_reader
        dev_table = EnvironmentTables.open(state, "dev").physical_table(model)
        prod_table = EnvironmentTables.open(state, "prod").physical_table(model)
        built = dev.historical(spine_frame(), FEATURES[:1])
    assert ("dev", (model,)) in asked
    assert dev_ref.table == to_sql(dev_table) != to_sql(prod_table)
    assert built.manifest["feature_groups"]["customer_order_features"]["table"] == dev_ref.table
    assert values(built.to_pandas(), ["order_count"])[0] == (103,)
    prod_ref = sample.store.snapshots([model])[model]
    assert (prod_ref.table, prod_ref.identifier) == (dev_change.prod_ref.table, dev_change.prod_ref.identifier)
    assert prod_ref.table == to_sql(prod_table) and dev_ref.identifier != prod_ref.identifier

    runner = CliRunner()
    listed = runner.invoke(cli, ["features", "list", "-p", str(sample.out), "--env", "dev", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    row = next(r for r in json.loads(listed.stdout) if r["feature_group"] == "customer_order_features")
    assert (row["environment"], row["fingerprint"]) == ("dev", dev_ref.identifier)
    every = runner.invoke(cli, ["features", "list", "-p", str(sample.out), "--format", "json"])
    assert {(r["environment"], r["fingerprint"]) for r in json.loads(every.stdout)
            if r["feature_group"] == "customer_order_features"} == {("dev", dev_ref.identifier), ("prod", prod_ref.identifier)}


def test_environments_replay_and_janitor(sample, dev_change):
    """A dev change is served from dev only; a training set replays from its snapshot after prod moved on, and is
    refused once the janitor removed that snapshot."""
    before = dev_change.before
    with FeatureStore(sample.out, "dev") as dev:
        assert values(dev.historical(spine_frame(), FEATURES[:1]).to_pandas(), ["order_count"])[0] == (103,)
        latest = dev.online("customer", ["CUST-00001"], ["customer_order_features.order_count"], ttl=None)
        assert values(latest, ["order_count"]) == [(107,)]
    assert values(sample.store.historical(spine_frame(), FEATURES[:1]).to_pandas(), ["order_count"])[0] == (3,)

    plan(sample.out, "prod")
    assert values(sample.store.historical(spine_frame(), FEATURES[:1]).to_pandas(), ["order_count"])[0] == (103,)
    replayed = sample.store.replay(sample.work / "before.manifest.json")  # the old snapshot is still there
    assert replayed.table.equals(before.table)

    from sqlmesh import Context

    ctx = Context(paths=str(sample.out))
    try:
        ctx.run_janitor(ignore_ttl=True)
    finally:
        ctx.close()
    with pytest.raises(FeatureStoreError, match=r"(?s)no longer has these snapshots.*customer_order_features: snapshot "
                                                + before.manifest["feature_groups"]["customer_order_features"]["identifier"]):
        sample.store.replay(sample.work / "before.manifest.json")
