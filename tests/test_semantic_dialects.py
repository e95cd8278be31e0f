"""The dialect table (seeknal_sqlmesh/semantic/dialects.py): time spines, offsets and date parts written for DuckDB,
Postgres and StarRocks parse back in that dialect and give DuckDB's answers; other dialects get the standard forms and
no generated time spine (a clear QueryError, never another engine's SQL); names that are not dialects are refused."""

from __future__ import annotations

import textwrap

import pytest
import sqlglot
from sqlglot import exp

from semantic_helpers import SAMPLE_SEMANTIC, rows, sample_connection
from seeknal_sqlmesh.semantic import QueryError, SemanticLayer
from seeknal_sqlmesh.semantic.dialects import KNOWN, dialect_sql
from seeknal_sqlmesh.sqlkit import cast, string, to_sql

SPINE_QUERIES = {
    "cumulative": dict(metrics=["cumulative_revenue", "revenue_qtd"], group_by=["metric_time__week", "channel"]),
    "offset": dict(metrics=["revenue_growth_mom"], group_by=["metric_time__month"]),
    "constrained": dict(metrics=["cumulative_revenue"], group_by=["metric_time__day"], time_constraint=("2024-01-10", "2024-02-05")),
}
DATE_PARTS = dict(metrics=["order_count"], group_by=[f"metric_time__extract_{p}" for p in ("year", "quarter", "month", "week", "day", "dow", "doy")])


@pytest.fixture(scope="module")
def con():
    return sample_connection()


@pytest.fixture(scope="module")
def sl(con):
    return SemanticLayer.load(SAMPLE_SEMANTIC, connection=con)


def test_the_table_knows_duckdb_postgres_and_starrocks():
    assert set(KNOWN) == {"duckdb", "postgres", "starrocks"}
    lo, hi = cast(string("2024-01-01"), "date"), cast(string("2024-01-03"), "date")
    for name in KNOWN:
        days = dialect_sql(name).days(lo.copy(), hi.copy())
        assert sqlglot.parse_one(to_sql(days, name), read=name).find(exp.Select) is not None


@pytest.mark.parametrize("dialect, spine, interval", [
    ("duckdb", "UNNEST(GENERATE_SERIES(", "INTERVAL '1' MONTH"),
    ("postgres", "GENERATE_SERIES(", "INTERVAL '1 MONTH'"),
    ("starrocks", "FROM TABLE(GENERATE_SERIES(0, DATE_DIFF('DAY'", "INTERVAL 1 MONTH"),
])
@pytest.mark.parametrize("query", sorted(SPINE_QUERIES))
def test_spine_and_offset_sql_parses_back_in_its_dialect(sl, dialect, spine, interval, query):
    sql = sl.compile(**SPINE_QUERIES[query], dialect=dialect, pretty=False)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert tree.find(exp.Select) is not None
    assert spine in sql
    if dialect == "postgres":
        assert "UNNEST(" not in sql  # a set-returning function in the select list, not DuckDB's UNNEST
    if dialect != "starrocks":
        assert "DAYS_ADD" not in sql and "TABLE(" not in sql  # StarRocks SQL only for StarRocks
    if query == "offset":
        assert interval in sql


def test_duckdb_spine_sql_gives_the_configured_spine_answers(con, tmp_path):
    # the generated spine and a configured spine table give the same rows
    con.execute("CREATE SCHEMA IF NOT EXISTS util")
    con.execute("CREATE OR REPLACE TABLE util.days AS SELECT CAST(d AS DATE) AS day FROM generate_series(DATE '2023-01-01', DATE '2025-01-01', INTERVAL 1 DAY) t(d)")
    configured = tmp_path / "semantic"
    configured.mkdir()
    for path in SAMPLE_SEMANTIC.rglob("*.yml"):
        (configured / f"{path.parent.name}_{path.name}").write_text(path.read_text())
    (configured / "spine.yml").write_text(textwrap.dedent("""
        project_configuration:
          time_spines:
            - node_relation: {schema_name: util, alias: days}
              primary_column: {name: day, time_granularity: day}
        """))
    generated = SemanticLayer.load(SAMPLE_SEMANTIC, connection=con)
    with_table = SemanticLayer.load(configured, connection=con)
    for query in SPINE_QUERIES.values():
        sql = with_table.compile(**query)
        assert "GENERATE_SERIES" not in sql.upper() and "util" in sql
        assert rows(with_table.query(**query)) == rows(generated.query(**query))


def _starrocks_to_duckdb(sql: str) -> str:
    """StarRocks SQL run on DuckDB: its day series (TABLE(generate_series(0, n)), DAYS_ADD) rewritten by hand,
    the rest transpiled by sqlglot."""
    tree = sqlglot.parse_one(sql, read="starrocks")

    def rewrite(node):
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous) and node.this.name.upper() == "TABLE":
            series = node.this.expressions[0]
            end = exp.Add(this=series.args["end"].copy(), expression=exp.Literal.number(1))
            return exp.Table(
                this=exp.Anonymous(this="range", expressions=[series.args["start"].copy(), end]),
                alias=exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier("generate_series")]),
            )
        if isinstance(node, exp.Anonymous) and node.name.upper() == "DAYS_ADD":
            return exp.Add(this=node.expressions[0].copy(), expression=cast(node.expressions[1].copy(), "int"))
        return node

    return tree.transform(rewrite).sql("duckdb")


@pytest.mark.parametrize("query", [*sorted(SPINE_QUERIES), "date parts"])
def test_starrocks_sql_gives_duckdbs_answers(sl, con, query):
    q = DATE_PARTS if query == "date parts" else SPINE_QUERIES[query]
    starrocks = sl.compile(**q, dialect="starrocks", pretty=False)
    assert rows(con.execute(_starrocks_to_duckdb(starrocks)).fetchall()) == rows(sl.query(**q))


def test_date_parts_per_dialect(sl):
    duckdb_sql = sl.compile(**DATE_PARTS, dialect="duckdb", pretty=False)
    assert "EXTRACT(ISODOW FROM" in duckdb_sql and "EXTRACT(WEEK FROM" in duckdb_sql
    postgres_sql = sl.compile(**DATE_PARTS, dialect="postgres", pretty=False)
    assert "EXTRACT(ISODOW FROM" in postgres_sql and "EXTRACT(DOY FROM" in postgres_sql
    starrocks_sql = sl.compile(**DATE_PARTS, dialect="starrocks", pretty=False)
    # StarRocks' EXTRACT has no ISO day of week / day of year: its own functions (ISO week: WEEKOFYEAR)
    assert "DAYOFWEEK_ISO(" in starrocks_sql and "DAYOFYEAR(" in starrocks_sql and "WEEKOFYEAR(" in starrocks_sql
    assert "ISODOW" not in starrocks_sql
    sqlglot.parse_one(starrocks_sql, read="starrocks")


@pytest.mark.parametrize("dialect", ["snowflake", "mysql", "bigquery", "redshift"])
def test_other_dialects_get_no_generated_spine(sl, dialect):
    for query in SPINE_QUERIES.values():
        with pytest.raises(QueryError, match=f"cannot generate one in {dialect} SQL") as e:
            sl.compile(**query, dialect=dialect)
        assert "time_spines" in e.value.hint
    # what needs no spine is written in the standard forms, as sqlglot prints them in that dialect
    sql = sl.compile(metrics=["revenue"], group_by=["metric_time__month", "status"], dialect=dialect)
    assert sqlglot.parse_one(sql, read=dialect).find(exp.Select) is not None


def test_other_dialects_use_a_configured_spine(tmp_path):
    (tmp_path / "m.yml").write_text(textwrap.dedent("""
        semantic_models:
          - name: orders
            node_relation: {schema_name: shop, alias: orders}
            defaults: {agg_time_dimension: day}
            entities: [{name: order, type: primary, expr: order_id}]
            dimensions: [{name: day, type: time, type_params: {time_granularity: day}}]
            measures: [{name: amount, agg: sum}]
        metrics:
          - {name: amount_7d, type: cumulative, type_params: {measure: amount, cumulative_type_params: {window: 7 days}}}
        project_configuration:
          time_spines:
            - node_relation: {schema_name: shop, alias: spine}
              primary_column: {name: ds, time_granularity: day}
        """))
    sl = SemanticLayer.load([tmp_path])
    sql = sl.compile(metrics=["amount_7d"], group_by=["metric_time__day"], dialect="snowflake")
    assert "shop.spine" in sql.replace('"', "")
    sqlglot.parse_one(sql, read="snowflake")


def test_a_name_that_is_no_dialect_is_refused(sl):
    with pytest.raises(QueryError, match="unknown SQL dialect 'nosuchsql'"):
        sl.compile(metrics=["revenue"], dialect="nosuchsql")
