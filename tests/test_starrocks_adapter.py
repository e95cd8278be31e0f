"""Tier 1: the exact SQL of every StarRocks adapter operation, with a mocked DB-API connection (as SQLMesh's own
adapter tests do). Each operation runs on SQLMesh's built-in adapter and on ours: where they differ on purpose the
expectation says why; everything else must be identical."""

from __future__ import annotations

import typing as t
from types import SimpleNamespace
from unittest import mock

import pandas as pd
import pytest
from sqlglot import exp, parse_one
from sqlmesh.core.engine_adapter.shared import DataObject, DataObjectType
from sqlmesh.core.engine_adapter.starrocks import StarRocksEngineAdapter
from sqlmesh.core.node import IntervalUnit
from sqlmesh.utils.errors import SQLMeshError, UnsupportedCatalogOperationError

from seeknal_sqlmesh.starrocks.adapter import SeeknalStarRocksEngineAdapter

BUILTIN, OURS = StarRocksEngineAdapter, SeeknalStarRocksEngineAdapter
COLS = {"id": exp.DataType.build("BIGINT"), "ts": exp.DataType.build("DATETIME"), "v": exp.DataType.build("DOUBLE")}
DATE_COLS = {"id": exp.DataType.build("BIGINT"), "dt": exp.DataType.build("DATE"), "v": exp.DataType.build("DOUBLE")}
EXISTING = [DataObject(schema="db", name="t", type=DataObjectType.TABLE)]


def make_adapter(klass, existing: t.Sequence[DataObject] = (), fetch: t.Sequence[tuple] = ()):
    """The adapter on a NonCallableMock connection; `_get_data_objects` answers `existing` (no query sent)."""
    connection = mock.NonCallableMock()
    cursor = mock.Mock()
    cursor.fetchall.return_value = list(fetch)
    connection.cursor.return_value = cursor
    adapter = klass(lambda: connection, dialect="starrocks", register_comments=True, default_catalog=None)
    adapter._get_data_objects = lambda *args, **kwargs: list(existing)
    return adapter, cursor


def sql_calls(cursor) -> t.List[str]:
    calls = [c.args[0] for c in cursor.execute.call_args_list]
    cursor.reset_mock()
    return [c.sql(dialect="starrocks", identify=True) if isinstance(c, exp.Expr) else str(c) for c in calls]


def time_snapshot(time_column: str = "ts", partitioned_by: t.Optional[list] = None):
    """What SQLMesh passes as `snapshot=` to insert_overwrite_by_time_partition: only the model matters."""
    model = SimpleNamespace(
        time_column=SimpleNamespace(column=exp.column(time_column)),
        partitioned_by=[exp.column(time_column)] if partitioned_by is None else partitioned_by,
        partition_interval_unit=IntervalUnit.DAY,
    )
    return SimpleNamespace(is_model=True, model=model)


def between(low: str, high: str) -> t.Callable:
    return lambda value, _types: exp.Literal.string(str(value)[:10])


# ------------------------------------------------------------------------------------------------ operations
# name -> function(adapter). OPERATIONS is shared with tests/test_starrocks_sqlglot.py (every emitted statement parses).


def op_create_schema(a):
    a.create_schema("shop")


def op_create_table_keys(a):
    a.create_table(
        "shop.orders", {"v": exp.DataType.build("DECIMAL(10, 2)"), "id": exp.DataType.build("BIGINT"), "dt": exp.DataType.build("DATE")},
        table_properties={"primary_key": exp.Tuple(expressions=[exp.column("id"), exp.column("dt")]),
                          "distributed_by": exp.Literal.string("HASH(id) BUCKETS 8"), "replication_num": exp.Literal.string("1")},
        partitioned_by=[exp.column("dt")], table_description="orders",
    )


def op_create_time_partitioned(a):
    a.create_table("db.t", COLS, partitioned_by=[exp.column("ts")], partition_interval_unit=IntervalUnit.DAY)


def op_create_time_partitioned_date(a):
    a.create_table("db.d", DATE_COLS, partitioned_by=[exp.column("dt")], partition_interval_unit=IntervalUnit.MONTH)


def op_replace_existing(a):
    a.replace_query("db.t", parse_one("SELECT id, ts, v FROM src"), COLS)


def op_time_range(a):
    a.insert_overwrite_by_time_partition(
        "db.t", parse_one("SELECT id, ts, v FROM src"), "2024-01-01", "2024-01-02", time_formatter=between("", ""),
        time_column="ts", target_columns_to_types=COLS, snapshot=time_snapshot(),
    )


def op_time_range_coarse_partition(a):
    coarse = [exp.func("date_trunc", exp.Literal.string("month"), exp.column("ts"))]
    a.insert_overwrite_by_time_partition(
        "db.t", parse_one("SELECT id, ts, v FROM src"), "2024-01-01", "2024-01-02", time_formatter=between("", ""),
        time_column="ts", target_columns_to_types=COLS, snapshot=time_snapshot(partitioned_by=coarse),
    )


def op_by_partition(a):
    a.insert_overwrite_by_partition("db.t", parse_one("SELECT id, ts, v FROM src"), [exp.column("ts")], COLS)


def op_dataframe_batches(a):
    a.DEFAULT_BATCH_SIZE = 2
    df = pd.DataFrame({"id": [1, 2, 3], "ts": pd.to_datetime(["2024-01-01"] * 3), "v": [1.0, 2.0, 3.0]})
    a.replace_query("db.t", df, COLS)


def op_merge_pk(a):
    a.merge("db.t", parse_one("SELECT id, ts, v FROM src"), COLS, unique_key=[exp.column("id")],
            physical_properties={"primary_key": exp.column("id")})


def op_merge_other_key(a):
    a.merge("db.t", parse_one("SELECT id, ts, v FROM src"), COLS, unique_key=[exp.column("id")],
            physical_properties={"primary_key": exp.Tuple(expressions=[exp.column("id"), exp.column("ts")])})


def op_delete_between(a):
    a.delete_from("db.t", parse_one("ts BETWEEN '2024-01-01' AND '2024-01-02'"))


def op_create_view(a):
    a.create_view("demo.v", parse_one("SELECT id FROM db.t"))


def op_rename(a):
    a.rename_table("db.a", "db.b")


def op_drop_mv(a):
    a.drop_view("db.mv", materialized=True)


def op_external_columns(a):
    a.columns("ice.web.events")


def op_external_exists(a):
    a.table_exists("ice.web.events")


def op_external_listing(a):
    a._external_data_objects("ice", "web", None)


OPERATIONS: t.Dict[str, t.Callable] = {k[3:]: v for k, v in dict(globals()).items() if k.startswith("op_")}

SAME = {
    "create_schema": ["CREATE SCHEMA IF NOT EXISTS `shop`"],
    "create_table_keys": [
        "CREATE TABLE IF NOT EXISTS `shop`.`orders` (`id` BIGINT, `dt` DATE, `v` DECIMAL(10, 2)) PRIMARY KEY (`id`, `dt`) "
        "COMMENT 'orders' PARTITION BY (`dt`) DISTRIBUTED BY HASH (`id`) BUCKETS 8 PROPERTIES ('replication_num'='1')"
    ],
    "create_time_partitioned_date": [
        # ours: a monthly model on a DATE column gets monthly partitions (the built-in: one per day value)
        "CREATE TABLE IF NOT EXISTS `db`.`d` (`id` BIGINT, `dt` DATE, `v` DOUBLE) PARTITION BY DATE_TRUNC('month', `dt`)",
    ],
    "delete_between": ["DELETE FROM `db`.`t` WHERE `ts` >= '2024-01-01' AND `ts` <= '2024-01-02'"],
    "create_view": ["CREATE OR REPLACE VIEW `demo`.`v` AS SELECT `id` FROM `db`.`t`"],
    "rename": ["ALTER TABLE `db`.`a` RENAME `b`"],
    "drop_mv": ["DROP MATERIALIZED VIEW IF EXISTS `db`.`mv`"],
    "merge_other_key": None,  # the parent's emulation (temp table with a random name): checked below
}

OUR_SQL = {
    **SAME,
    # a DATETIME time column: one partition per day (the built-in makes one per distinct timestamp)
    "create_time_partitioned": ["CREATE TABLE IF NOT EXISTS `db`.`t` (`id` BIGINT, `ts` DATETIME, `v` DOUBLE) PARTITION BY DATE_TRUNC('day', `ts`)"],
    # FULL rebuild: one atomic statement instead of TRUNCATE + INSERT
    "replace_existing": ["INSERT OVERWRITE `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` FROM `src`"],
    # time range: StarRocks replaces the daily partitions the rows land in
    "time_range": [
        "INSERT /*+ SET_VAR(dynamic_overwrite = TRUE) */ OVERWRITE `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` "
        "FROM (SELECT `id`, `ts`, `v` FROM `src`) AS `_subquery` WHERE `ts` BETWEEN '2024-01-01' AND '2024-01-02'"
    ],
    # partitions coarser than the intervals: an overwrite would lose other days, so DELETE + INSERT (PK tables only)
    "time_range_coarse_partition": [
        "DELETE FROM `db`.`t` WHERE `ts` >= '2024-01-01' AND `ts` <= '2024-01-02'",
        "INSERT INTO `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` FROM (SELECT `id`, `ts`, `v` FROM `src`) AS `_subquery` "
        "WHERE `ts` BETWEEN '2024-01-01' AND '2024-01-02'",
    ],
    "by_partition": ["INSERT /*+ SET_VAR(dynamic_overwrite = TRUE) */ OVERWRITE `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` FROM `src`"],
    # a PRIMARY KEY table keyed by the unique key: INSERT is the upsert (one statement instead of four)
    "merge_pk": [
        "INSERT INTO `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` FROM (SELECT `id`, `ts`, `v`, ROW_NUMBER() OVER "
        "(PARTITION BY `id` ORDER BY `id`) AS `_row_number` FROM (SELECT `id`, `ts`, `v` FROM `src`) AS `_source`) AS `_t` "
        "WHERE `_row_number` = 1"
    ],
    "external_columns": ["DESCRIBE `ice`.`web`.`events`"],
    "external_exists": ["DESCRIBE `ice`.`web`.`events`"],
    "external_listing": ["SHOW TABLES FROM `ice`.`web`"],
}

BUILTIN_SQL = {
    **SAME,
    "create_time_partitioned": ["CREATE TABLE IF NOT EXISTS `db`.`t` (`id` BIGINT, `ts` DATETIME, `v` DOUBLE) PARTITION BY (`ts`)"],
    "create_time_partitioned_date": ["CREATE TABLE IF NOT EXISTS `db`.`d` (`id` BIGINT, `dt` DATE, `v` DOUBLE) PARTITION BY (`dt`)"],
    "replace_existing": ["TRUNCATE TABLE `db`.`t`", "INSERT INTO `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` FROM `src`"],
    "time_range": OUR_SQL["time_range_coarse_partition"],
    "time_range_coarse_partition": OUR_SQL["time_range_coarse_partition"],
    "merge_pk": None,
    "by_partition": None,
    "external_listing": None,
    "external_columns": UnsupportedCatalogOperationError,
    "external_exists": UnsupportedCatalogOperationError,
}


def run_operation(klass, name):
    existing = EXISTING if name in ("replace_existing", "dataframe_batches") else ()
    adapter, cursor = make_adapter(klass, existing=existing, fetch=[("id", "bigint"), ("ts", "datetime"), ("v", "double")])
    OPERATIONS[name](adapter)
    return sql_calls(cursor)


@pytest.mark.parametrize("name", sorted(k for k, v in OUR_SQL.items() if v is not None))
def test_our_sql(name):
    assert run_operation(OURS, name) == OUR_SQL[name]


@pytest.mark.parametrize("name", sorted(k for k, v in BUILTIN_SQL.items() if v is not None and k != "create_time_partitioned_date"))
def test_builtin_sql_for_comparison(name):
    """The built-in adapter's SQL for the same operation: documents what ours changes (and that the rest is equal)."""
    expected = BUILTIN_SQL[name]
    if isinstance(expected, type):
        with pytest.raises(expected):
            run_operation(BUILTIN, name)
    else:
        assert run_operation(BUILTIN, name) == expected


def test_dataframe_batches_are_staged_then_overwritten_once():
    calls = run_operation(OURS, "dataframe_batches")
    staging = calls[0].split("`")[3]
    assert staging.startswith("__temp_t_")
    assert calls == [
        f"CREATE TABLE `db`.`{staging}` (`id` BIGINT, `ts` DATETIME, `v` DOUBLE)",
        f"INSERT INTO `db`.`{staging}` (`id`, `ts`, `v`) SELECT CAST(`id` AS BIGINT) AS `id`, CAST(`ts` AS DATETIME) AS `ts`, "
        f"CAST(`v` AS DOUBLE) AS `v` FROM (SELECT 1 AS `id`, CAST('2024-01-01 00:00:00' AS DATETIME) AS `ts`, 1.0 AS `v` "
        f"UNION ALL SELECT 2, CAST('2024-01-01 00:00:00' AS DATETIME), 2.0) AS `t`",
        f"INSERT INTO `db`.`{staging}` (`id`, `ts`, `v`) SELECT CAST(`id` AS BIGINT) AS `id`, CAST(`ts` AS DATETIME) AS `ts`, "
        f"CAST(`v` AS DOUBLE) AS `v` FROM (SELECT 3 AS `id`, CAST('2024-01-01 00:00:00' AS DATETIME) AS `ts`, 3.0 AS `v`) AS `t`",
        f"INSERT OVERWRITE `db`.`t` (`id`, `ts`, `v`) SELECT `id`, `ts`, `v` FROM `db`.`{staging}`",
        f"DROP TABLE IF EXISTS `db`.`{staging}`",
    ]


def test_merge_on_another_key_keeps_the_logical_merge():
    calls = run_operation(OURS, "merge_other_key")
    assert [c.split(" ")[0] for c in calls] == ["CREATE", "DELETE", "INSERT", "DROP"]
    assert not any(c.startswith("MERGE") for c in calls)


def test_data_objects_in_one_query_and_external_catalogs():
    adapter, cursor = make_adapter(OURS)
    del adapter._get_data_objects  # the real method
    adapter.fetchdf = mock.Mock(return_value=pd.DataFrame(
        {"schema_name": ["db", "db", "db"], "name": ["t", "v", "mv"], "type": ["table", "view", "materialized_view"]}))
    objects = adapter._get_data_objects("db", {"T", "mv", "v"})
    assert [(o.name, o.type) for o in objects] == [
        ("t", DataObjectType.TABLE), ("v", DataObjectType.VIEW), ("mv", DataObjectType.MATERIALIZED_VIEW)]
    query = adapter.fetchdf.call_args.args[0].sql(dialect="starrocks", identify=True)
    assert query == (
        "SELECT `t`.`table_schema` AS `schema_name`, `t`.`table_name` AS `name`, CASE WHEN NOT `mv`.`table_name` IS NULL "
        "THEN 'materialized_view' WHEN `t`.`table_type` = 'VIEW' THEN 'view' ELSE 'table' END AS `type` "
        "FROM `information_schema`.`tables` AS `t` LEFT JOIN `information_schema`.`materialized_views` AS `mv` "
        "ON `mv`.`table_schema` = `t`.`table_schema` AND `mv`.`table_name` = `t`.`table_name` "
        "WHERE `t`.`table_schema` = 'db' AND LOWER(`t`.`table_name`) IN ('mv', 't', 'v')"
    )
    cursor.fetchall.return_value = [("events",), ("clicks",)]
    external = adapter._get_data_objects("ice.web", {"events"})
    assert sql_calls(cursor) == ["SHOW TABLES FROM `ice`.`web`"]
    assert [(o.catalog, o.schema_name, o.name) for o in external] == [("ice", "web", "events")]


def test_external_catalog_columns_are_read_with_their_catalog():
    adapter, cursor = make_adapter(OURS, fetch=[("id", "bigint"), ("ts", "datetime"), ("payload", "json")])
    assert {k: v.sql("starrocks") for k, v in adapter.columns("ice.web.events").items()} == {
        "id": "BIGINT", "ts": "DATETIME", "payload": "JSON"}
    assert sql_calls(cursor) == ["DESCRIBE `ice`.`web`.`events`"]
    cursor.execute.side_effect = Exception("Unknown table")
    assert adapter.table_exists("ice.web.missing") is False


def test_incremental_models_need_a_primary_key_only_for_upserts():
    adapter, _ = make_adapter(OURS)
    builtin, _ = make_adapter(BUILTIN)
    kwargs = {"requires_delete_capable_table": True, "unique_key": None, "model_name": "m"}
    assert adapter.adjust_physical_properties_for_incremental({}, **kwargs) == {}
    with pytest.raises(SQLMeshError, match="requires a PRIMARY KEY"):
        builtin.adjust_physical_properties_for_incremental({}, **kwargs)
    promoted = adapter.adjust_physical_properties_for_incremental(
        {}, requires_delete_capable_table=True, unique_key=[exp.column("id")], model_name="m")
    assert promoted["primary_key"].sql() == "id"


def test_refresh_materialized_view():
    adapter, cursor = make_adapter(OURS)
    adapter.refresh_materialized_view("db.mv")
    adapter.refresh_materialized_view("db.mv", sync=False)
    assert sql_calls(cursor) == ["REFRESH MATERIALIZED VIEW `db`.`mv` WITH SYNC MODE", "REFRESH MATERIALIZED VIEW `db`.`mv`"]
