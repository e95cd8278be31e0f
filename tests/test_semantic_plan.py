"""The plan carries what resolution found, so rendering only maps nodes to SQL: a plan written by hand renders (no
manifest anywhere), and rendering a planned query parses no SQL at all. Layers tested alone: planner -> plan,
plan -> SQL."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from semantic_helpers import SAMPLE_SEMANTIC
from seeknal_sqlmesh.semantic import SemanticLayer, filters, ir, resolve
from seeknal_sqlmesh.semantic.plan import (
    Aggregate,
    Compute,
    Condition,
    Cumulative,
    Key,
    Measure,
    MeasureColumn,
    ModelExpr,
    OutputKey,
    QueryPlan,
    Shift,
    Source,
    ValueRef,
)
from seeknal_sqlmesh.semantic.query import TimeRange
from seeknal_sqlmesh.semantic.render import render
from seeknal_sqlmesh.semantic.resolve import LEFT, RIGHT, JoinPath, JoinStep
from seeknal_sqlmesh.sqlkit import col, to_sql

ORDERS = ir.Relation("shop.orders", is_ref=False)
CUSTOMERS = ir.Relation("shop.customers", is_ref=False)


def column(name: str) -> exp.Column:
    return exp.column(name)


def relation(rel: ir.Relation) -> exp.Table:
    schema, name = rel.name.split(".")
    return exp.Table(this=exp.to_identifier(name), db=exp.to_identifier(schema))


@pytest.fixture
def shop():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA shop")
    con.execute("CREATE TABLE shop.customers AS SELECT * FROM (VALUES (1, 'smb'), (2, 'ent')) t(customer_id, segment)")
    con.execute("""CREATE TABLE shop.orders AS SELECT * FROM (VALUES
        (1, 1, DATE '2024-01-03', 'web', 10.0), (2, 1, DATE '2024-01-20', 'app', 5.0), (3, 2, DATE '2024-02-02', 'web', 7.0),
        (4, NULL, DATE '2024-02-10', 'web', 1.0), (5, 2, DATE '2024-03-05', 'app', 2.0))
        t(order_id, customer_id, ordered_on, channel, amount)""")
    return con


def by_hand() -> QueryPlan:
    """revenue and web revenue by customer segment and month: orders -> customers joined through customer_id."""
    to_customer = JoinStep(
        "customer", "orders", "customers",
        exp.EQ(this=exp.column("customer_id", table=LEFT), expression=exp.column("customer_id", table=RIGHT)),
        CUSTOMERS,
    )
    source = Source("orders", ORDERS, time=column("ordered_on"))
    web = Condition("channel = 'web'", sqlglot.parse_one("channel = 'web'"), {"channel": ModelExpr(column("channel"))})
    amount = Measure("revenue", "sum", column("amount"))
    aggregate = Aggregate(
        source,
        keys=(
            Key("segment", ModelExpr(column("segment"), JoinPath((to_customer,)))),
            Key("metric_time__month", ModelExpr(column("ordered_on"), grain="month")),
        ),
        columns=(MeasureColumn("revenue", amount), MeasureColumn("revenue_2", amount, (web,))),
    )
    refs = {"r0": ValueRef("r0", aggregate, "revenue"), "r1": ValueRef("r1", aggregate, "revenue_2", fill=0)}
    root = Compute((("revenue", col("r0")), ("web_revenue", col("r1"))), refs)
    return QueryPlan(("segment", "metric_time__month"), root, order_by=(("metric_time__month", False), ("segment", False)))


def test_a_plan_written_by_hand_renders(shop):
    tree, reads = render(by_hand(), relation, "duckdb")
    assert reads == {"orders": {"amount", "channel", "customer_id", "ordered_on"}, "customers": {"customer_id", "segment"}}
    got = shop.execute(to_sql(tree)).fetchall()
    assert got == [
        ("smb", dt.date(2024, 1, 1), 15.0, 10.0),
        ("ent", dt.date(2024, 2, 1), 7.0, 7.0),
        (None, dt.date(2024, 2, 1), 1.0, 1.0),
        ("ent", dt.date(2024, 3, 1), 2.0, 0),
    ]
    for dialect in ("postgres", "starrocks", "snowflake"):
        sqlglot.parse_one(to_sql(render(by_hand(), relation, dialect)[0], dialect), read=dialect)


def test_time_nodes_written_by_hand_render(shop):
    """A cumulative (month to date, per day) and a month-over-month offset, built without a manifest."""
    source = Source("orders", ORDERS, time=column("ordered_on"))
    revenue = Measure("revenue", "sum", column("amount"))
    mtd = Cumulative(
        source, revenue, keys=(), output=(OutputKey("metric_time__day", from_period=True),), grain="day",
        grain_to_date="month", bounds=TimeRange(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 6)),
    )
    plan = QueryPlan(("metric_time__day",), Compute((("mtd", col("m")),), {"m": ValueRef("m", mtd, "revenue")}))
    assert shop.execute(to_sql(render(plan, relation)[0])).fetchall() == [
        (dt.date(2024, 1, d), 10.0) for d in (3, 4, 5)
    ]
    monthly = Aggregate(
        source, (Key("metric_time__month", ModelExpr(column("ordered_on"), grain="month")),), (MeasureColumn("revenue", revenue),)
    )
    previous = Shift(
        monthly, "revenue", ir.Offset(1, "month"), driving="metric_time__month", grain="month",
        output=(OutputKey("metric_time__month", from_period=True),),
    )
    growth = exp.Sub(this=col("now"), expression=col("before"))
    refs = {"now": ValueRef("now", monthly, "revenue"), "before": ValueRef("before", previous, "revenue")}
    plan = QueryPlan(("metric_time__month",), Compute((("growth", growth),), refs), order_by=(("metric_time__month", False),))
    for dialect in ("duckdb", "postgres", "starrocks"):
        sqlglot.parse_one(to_sql(render(plan, relation, dialect)[0], dialect), read=dialect)
    assert shop.execute(to_sql(render(plan, relation)[0])).fetchall() == [
        (dt.date(2024, 1, 1), None), (dt.date(2024, 2, 1), -7.0), (dt.date(2024, 3, 1), -6.0)
    ]


QUERIES = [
    dict(metrics=["revenue", "customer_count", "aov"], group_by=["segment", "metric_time__month"], where=["customer_id__country <> 'SG'"]),
    dict(metrics=["cumulative_revenue", "revenue_growth_mom", "delivered_revenue"], group_by=["metric_time__week", "channel"],
         where=["{{ TimeDimension('metric_time', 'month') }} >= '2024-02-01'"], time_constraint=("2024-01-15", "2024-03-01")),
    dict(group_by=["status", "customer_id__segment"]),
]


@pytest.mark.parametrize("query", range(len(QUERIES)))
def test_rendering_parses_no_sql(monkeypatch, query):
    sl = SemanticLayer.load(SAMPLE_SEMANTIC)
    expected = sl.compile(**QUERIES[query])
    plan = sl.plan(**QUERIES[query])

    def refuse(*args, **kwargs):
        raise AssertionError("the renderer parsed SQL text")

    with monkeypatch.context() as patched:  # while rendering only (sqlglot's generator parses type names itself)
        patched.setattr(sqlglot.parser.Parser, "parse", refuse)
        patched.setattr(sqlglot.parser.Parser, "parse_into", refuse)
        patched.setattr(resolve, "_parse_cached", refuse)  # the caches in front of the parser, too
        patched.setattr(filters, "_parse_filter", refuse)
        tree, _ = render(plan, relation)
    assert to_sql(tree, "duckdb", pretty=True) == expected


def test_plans_are_frozen():
    plan = by_hand()
    with pytest.raises(AttributeError):
        plan.root.outputs = ()  # type: ignore[misc]
    assert all(node.__dataclass_params__.frozen for node in plan.nodes())  # type: ignore[attr-defined]
