"""Upstream references are rewritten on the AST; the rewritten query returns what Seeknal's view-based
execution returns (differential test: Seeknal's `input_i` / `__THIS__` / `kind.name` views vs SQLMesh names)."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from seeknal_sqlmesh.translators.sql import SQLTranslationError, fold_statements, parse_statements, rewrite_upstreams

NODES = {"source.orders", "source.customers", "transform.orders_clean"}
INPUTS = ["source.orders", "source.customers"]


def seeknal_connection() -> duckdb.DuckDBPyConnection:
    """Seeknal's registration: `<kind>.<name>` views, plus input_<i> and __THIS__ for the node's inputs."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA source")
    con.execute("CREATE TABLE source.orders AS SELECT * FROM (VALUES (1, 'C1', 10.0), (2, 'C1', 20.0), (3, 'C2', 5.0)) t(order_id, customer_id, amount)")
    con.execute("CREATE TABLE source.customers AS SELECT * FROM (VALUES ('C1', 'EU'), ('C2', 'US')) t(customer_id, region)")
    con.execute("CREATE VIEW input_0 AS SELECT * FROM source.orders")
    con.execute("CREATE VIEW input_1 AS SELECT * FROM source.customers")
    con.execute('CREATE VIEW "__THIS__" AS SELECT * FROM source.orders')
    return con


SPELLINGS = {
    0: ["ref('source.orders')", "input_0", "__THIS__", "source.orders"],
    1: ["ref('source.customers')", "input_1", "source.customers"],
}


def rows(con, sql):
    return sorted(con.execute(sql).fetchall())


def _qualifier(spelling: str, alias: str | None) -> str:
    if alias:
        return alias
    return spelling.split(".")[-1]  # Seeknal views are referenced by their (last) name


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SPELLINGS[0]), st.sampled_from(SPELLINGS[1]), st.booleans())
def test_every_spelling_reads_the_same_rows(orders, customers, aliased):
    # ref() is a table function: it always needs an alias to be qualified
    a = "o" if aliased or orders.startswith("ref(") else None
    b = "c" if aliased or customers.startswith("ref(") else None
    qa, qb = _qualifier(orders, a), _qualifier(customers, b)
    left = f"{orders} AS {a}" if a else orders
    right = f"{customers} AS {b}" if b else customers
    sql = f"SELECT {qa}.order_id, {qb}.region, {qa}.amount FROM {left} JOIN {right} ON {qa}.customer_id = {qb}.customer_id"
    con = seeknal_connection()
    seeknal_sql = sql.replace("ref('source.orders')", "input_0").replace("ref('source.customers')", "input_1")
    expected = rows(con, seeknal_sql)

    statement = parse_statements(sql, "duckdb")[0]
    rewritten, used = rewrite_upstreams(statement, INPUTS, NODES)
    tables = {f"{t.db}.{t.name}" for t in rewritten.find_all(exp.Table)}
    assert tables == set(INPUTS)  # every read is a SQLMesh model name
    con.execute('DROP VIEW input_0; DROP VIEW input_1; DROP VIEW "__THIS__"')  # only real model names remain
    assert rows(con, rewritten.sql("duckdb")) == expected
    assert set(used) == set(INPUTS)


def test_refs_must_be_inputs_and_positions_must_exist():
    with pytest.raises(SQLTranslationError, match="not listed in inputs"):
        rewrite_upstreams(parse_statements("SELECT * FROM ref('transform.orders_clean')", "duckdb")[0], INPUTS, NODES)
    with pytest.raises(SQLTranslationError, match="input #2"):
        rewrite_upstreams(parse_statements("SELECT * FROM input_2", "duckdb")[0], INPUTS, NODES)
    with pytest.raises(SQLTranslationError, match="not a node"):
        rewrite_upstreams(parse_statements("SELECT * FROM transform.nope", "duckdb")[0], INPUTS, NODES)


def test_ctes_and_unrelated_tables_are_left_alone():
    sql = "WITH input_0 AS (SELECT 1 AS x) SELECT * FROM input_0, other.table_x"
    statement = parse_statements(sql, "duckdb")[0]
    before = statement.sql("duckdb")
    rewritten, used = rewrite_upstreams(statement, INPUTS, NODES, local_names=["input_0"])
    assert used == [] and rewritten.sql("duckdb") == before


def test_multi_statement_keeps_last_select_semantics():
    con = seeknal_connection()
    sql = """
        SET threads = 1;
        CREATE TEMP VIEW big AS SELECT * FROM input_0 WHERE amount > 6;
        CREATE TEMP TABLE per_customer AS SELECT customer_id, SUM(amount) AS total FROM big GROUP BY 1;
        SELECT p.customer_id, c.region, p.total FROM per_customer p JOIN input_1 c USING (customer_id)
    """
    expected = None
    for statement in parse_statements(sql, "duckdb"):
        result = con.execute(statement.sql("duckdb"))
    expected = sorted(result.fetchall())
    statements = [rewrite_upstreams(s, INPUTS, NODES, local_names=["big", "per_customer"])[0] for s in parse_statements(sql, "duckdb")]
    query, pre = fold_statements(statements)
    assert [type(p) for p in pre] == [exp.Set]
    assert sorted(seeknal_connection().execute(query.sql("duckdb")).fetchall()) == expected == [("C1", "EU", 30.0)]


def test_statement_after_last_select_is_refused():
    statements = parse_statements("SELECT 1; DELETE FROM x", "duckdb")
    with pytest.raises(SQLTranslationError):
        fold_statements(statements)
