"""Small pieces of the feature store: durations, online lookups with composite keys, the latest-value and entity-view
SQL the translator writes, manifests and spines."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb
import pandas as pd
import pytest
from sqlglot import exp

from seeknal_sqlmesh.features import sql as q
from seeknal_sqlmesh.features.durations import format_ttl, parse_ttl
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.features.online import LatestTable, normalise_keys, online_query
from seeknal_sqlmesh.features.training import digest, read_manifest, read_spine
from seeknal_sqlmesh.sqlkit import to_sql


def test_durations():
    assert parse_ttl("7d") == timedelta(days=7)
    assert parse_ttl("1d12h") == timedelta(hours=36)
    assert parse_ttl("90m") == parse_ttl(5400) == parse_ttl("5400") == timedelta(minutes=90)
    assert parse_ttl(None) is None and parse_ttl("none") is None
    assert format_ttl(timedelta(hours=36)) == "1d12h"
    for bad in ("7 days", "d", "-1d", timedelta(milliseconds=5)):
        with pytest.raises(FeatureStoreError):
            parse_ttl(bad)


HISTORY = """
CREATE TABLE fg AS SELECT * FROM (VALUES
  ('s1', 1, TIMESTAMP '2024-01-01', 10, 'a'),
  ('s1', 1, TIMESTAMP '2024-01-03', NULL, 'b'),
  ('s1', 1, TIMESTAMP '2024-01-03', 5, NULL),      -- tie on keys and time: 5 beats NULL
  ('s1', 2, TIMESTAMP '2024-01-02', 7, 'c'),
  ('s2', 1, TIMESTAMP '2024-01-05', 1, 'd'),
  (NULL, 1, TIMESTAMP '2024-01-09', 99, 'x'),       -- NULL key: never served
  ('s2', 1, NULL, 98, 'y')                          -- NULL event time: never served
) t(store, shelf, et, qty, tag)
"""


def test_latest_value_query_and_online_lookup_with_composite_keys():
    con = duckdb.connect()
    con.execute(HISTORY)
    con.execute(f"CREATE TABLE latest AS {to_sql(q.latest_value_query('fg', ['store', 'shelf'], 'et', ['qty', 'tag']))}")
    assert sorted(con.execute("SELECT store, shelf, CAST(et AS DATE)::VARCHAR, qty, tag FROM latest").fetchall()) == [
        ("s1", 1, "2024-01-03", 5, None), ("s1", 2, "2024-01-02", 7, "c"), ("s2", 1, "2024-01-05", 1, "d")]
    columns = {r[0]: exp.DataType.build(r[1], dialect="duckdb") for r in con.execute("DESCRIBE latest").fetchall()}
    keys = normalise_keys([{"store": "s2", "shelf": 1}, ("s1", "1"), ["nope", 3]], ["store", "shelf"])
    table = LatestTable("fg", "latest", ["store", "shelf"], "et", columns, [("qty", "qty"), ("tag", "tag")], timedelta(days=2))
    sql = to_sql(online_query(["store", "shelf"], keys, [table], datetime(2024, 1, 6)))
    # s1/1's latest (Jan 3) is 3 days old at Jan 6: past the 2-day TTL; keys come back in the order asked
    assert con.execute(sql).fetchall() == [("s2", 1, 1, "d"), ("s1", 1, None, None), ("nope", 3, None, None)]
    with pytest.raises(FeatureStoreError, match="2 join keys"):
        normalise_keys(["s1"], ["store", "shelf"])


def test_entity_view_query_keeps_every_point():
    con = duckdb.connect()
    con.execute(HISTORY)
    con.execute("CREATE TABLE other AS SELECT * FROM (VALUES ('s1', 2, DATE '2024-01-02', 0.5), ('s3', 1, DATE '2024-01-04', 0.25)) t(store, shelf, day, share)")
    view = q.entity_view_query(["store", "shelf"], [("fg", "fg", "et", ["qty", "tag"]), ("other", "other", "day", ["share"])])
    rows = con.execute(f"SELECT store, shelf, CAST(event_time AS DATE)::VARCHAR, fg, other FROM ({to_sql(view)}) ORDER BY ALL").fetchall()
    assert rows == [
        ("s1", 1, "2024-01-01", {"qty": 10, "tag": "a"}, None),
        ("s1", 1, "2024-01-03", {"qty": 5, "tag": None}, None),  # one row per point: the tie rule
        ("s1", 2, "2024-01-02", {"qty": 7, "tag": "c"}, {"share": 0.5}),  # DATE and TIMESTAMP event times meet
        ("s2", 1, "2024-01-05", {"qty": 1, "tag": "d"}, None),
        ("s3", 1, "2024-01-04", None, {"share": 0.25}),  # a point of the second group only
    ]


def test_spines_and_digests(tmp_path):
    frame = pd.DataFrame({"customer_id": ["a", "b"], "event_time": pd.to_datetime(["2024-01-01", "2024-01-02"]), "x": [1.5, None]})
    frame.to_parquet(tmp_path / "s.parquet", index=False)
    frame.to_csv(tmp_path / "s.csv", index=False)
    from_parquet, path = read_spine(tmp_path / "s.parquet")
    assert path == (tmp_path / "s.parquet").resolve()
    assert digest(from_parquet) == digest(read_spine(frame)[0])  # same rows, same hash
    assert digest(read_spine(frame.iloc[::-1])[0]) != digest(from_parquet)  # row order matters
    assert read_spine(tmp_path / "s.csv")[0].num_rows == 2
    with pytest.raises(FeatureStoreError, match="no such spine file"):
        read_spine(tmp_path / "missing.parquet")
    with pytest.raises(FeatureStoreError, match=r"\.parquet or \.csv"):
        read_spine(tmp_path / "s.json")


def test_manifest_errors(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(FeatureStoreError, match="not a training-set manifest"):
        read_manifest(tmp_path / "x.json")
    with pytest.raises(FeatureStoreError, match="no such manifest"):
        read_manifest(tmp_path / "nope.json")


def test_translation_of_feature_groups(tmp_path):
    """Incremental on the event time (with the `lookback` extension), latest values for online groups, one entity
    view per entity; a group whose event-time column is not an output stays FULL with a warning."""
    from tests.helpers import write_project
    from seeknal_sqlmesh.translators import translate_project

    csv = "customer_id,day,amount\nC1,2024-01-01,10\nC1,2024-01-02,20\nC2,2024-01-02,5\n"
    source = {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"}
    monthly = {"kind": "feature_group", "name": "monthly", "entity": "customer", "inputs": [{"ref": "source.orders"}],
               "materialization": {"event_time_col": "month", "lookback": 31, "online": {"enabled": True, "ttl": "40d"}},
               "transform": "SELECT customer_id, CAST(date_trunc('month', day) AS DATE) AS month, SUM(amount) AS total FROM source GROUP BY ALL"}
    broken = {"kind": "feature_group", "name": "no_time", "entity": "customer", "inputs": [{"ref": "source.orders"}],
              "materialization": {"event_time_col": "when"}, "transform": "SELECT customer_id, amount FROM source"}
    project = write_project(tmp_path / "p", {"sources/orders.yml": source, "fg/monthly.yml": monthly, "fg/no_time.yml": broken},
                            files={"data/orders.csv": csv})
    result = translate_project(project, tmp_path / "out")
    models = tmp_path / "out" / "models"
    assert "kind INCREMENTAL_BY_TIME_RANGE (\n    time_column month,\n    lookback 31\n  )" in (models / "feature_group" / "monthly.sql").read_text()
    assert "kind FULL" in (models / "feature_group" / "no_time.sql").read_text()
    assert sorted(p.name for p in (models / "feature_store").iterdir()) == ["entity_customer.sql", "monthly__latest.sql"]
    assert "lookback 31" in (models / "feature_store" / "entity_customer.sql").read_text()
    assert any("no_time" in str(w) and "when not among its output columns" in str(w) for w in result.warnings)
    from seeknal_sqlmesh.contract import Manifest
    from seeknal_sqlmesh.features.section import FeatureStoreSection

    section = Manifest.load(tmp_path / "out").section("features", FeatureStoreSection)
    assert section.entities["customer"].model_dump() == {"join_keys": ["customer_id"], "description": "", "view": "feature_store.entity_customer",
                                                         "feature_groups": ["monthly"]}
    assert section.feature_groups["monthly"].latest_model == "feature_store.monthly__latest"
    assert section.feature_groups["no_time"].latest_model is None
