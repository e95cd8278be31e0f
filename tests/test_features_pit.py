"""Point-in-time retrieval against a brute-force oracle (hypothesis).

Random feature histories (composite keys, NULL keys/times/values, rows tied on keys and event time, rows written in
random order and in several batches, i.e. late events), random spines (duplicates, NULLs, keys without history,
DATE or TIMESTAMP times against DATE or TIMESTAMP event times) and TTLs. Both SQL forms must give exactly what the
oracle gives, row by row in spine order.
"""

from __future__ import annotations

import typing as t
from datetime import date, datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from seeknal_sqlmesh.features import sql as q
from seeknal_sqlmesh.features.errors import FeatureStoreError
from seeknal_sqlmesh.features.plan import GroupRequest, GroupTable, Spine, build_plan, render_plan

BASE = datetime(2024, 1, 1)
FORMS = ("asof", "portable")
CON = duckdb.connect()  # one in-memory database for every example: tables are replaced each time

keys = st.sampled_from(["a", "b", "c", None])
small_ints = st.one_of(st.none(), st.integers(-3, 3))
texts = st.one_of(st.none(), st.sampled_from(["x", "y", "yy", ""]))
offsets = st.integers(0, 12 * 24)  # hours after BASE; dates use whole days


def as_time(hours: t.Optional[int], kind: str):
    if hours is None:
        return None
    moment = BASE + timedelta(hours=hours)
    return moment.date() if kind == "DATE" else moment


@st.composite
def histories(draw):
    n = draw(st.integers(0, 14))
    rows = [(draw(keys), draw(keys), draw(st.one_of(st.none(), offsets, st.sampled_from([24, 48, 49]))), draw(small_ints), draw(texts))
            for _ in range(n)]
    # ties on purpose: copy some rows' keys and event time with other values
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=4)) if n else []:
        k1, k2, et, _, _ = rows[i]
        rows.append((k1, k2, et, draw(small_ints), draw(texts)))
    order = draw(st.permutations(range(len(rows))))  # physical order does not matter
    batches = draw(st.integers(1, 3))  # written in several INSERTs: late-arriving rows
    return [rows[i] for i in order], batches


@st.composite
def spines(draw):
    n = draw(st.integers(0, 12))
    rows = [(draw(keys), draw(keys), draw(st.one_of(st.none(), offsets, st.sampled_from([24, 48, 49])))) for _ in range(n)]
    if rows and draw(st.booleans()):
        rows.append(rows[0])  # duplicate spine rows stay duplicate rows
    return rows


ttls = st.one_of(st.none(), st.integers(1, 96).map(lambda h: timedelta(hours=h)))


def oracle(history, group_keys, et_kind, spine_rows, spine_kind, ttl):
    """For each spine row: the latest row at or before its time, ties broken by the other columns (NULL lowest)."""
    def moment(v):
        return datetime(v.year, v.month, v.day) if isinstance(v, date) and not isinstance(v, datetime) else v

    def null_lowest(v):
        return (0,) if v is None else (1, v)

    out = []
    for k1, k2, hours in spine_rows:
        spine_keys = {"k1": k1, "k2": k2}
        ts = moment(as_time(hours, spine_kind))
        best = None
        for h1, h2, et_hours, f1, f2 in history:
            row_keys = {"k1": h1, "k2": h2}
            et = moment(as_time(et_hours, et_kind))
            if ts is None or et is None or any(spine_keys[k] is None or row_keys[k] != spine_keys[k] for k in group_keys):
                continue
            if et > ts:
                continue
            # ties: every column but keys and event time, in table order (k2 is a feature when not a key)
            rank = (et, *(null_lowest(v) for c, v in (("k2", h2), ("f1", f1), ("f2", f2)) if c not in group_keys))
            if best is None or rank > best[0]:
                best = (rank, f1, f2)
        if best is None or (ttl is not None and best[0][0] < ts - ttl):
            out.append((None, None))
        else:
            out.append((best[1], best[2]))
    return out


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return str(value)


def insert(con, table: str, rows) -> None:
    if rows:
        con.execute(f"INSERT INTO {table} VALUES " + ", ".join("(" + ", ".join(literal(v) for v in r) + ")" for r in rows))


def load(con, history, batches, et_kind, spine_rows, spine_kind, name="fg"):
    """The history in `batches` INSERTs (in the drawn order) and the spine with its row numbers."""
    con.execute(f"CREATE OR REPLACE TABLE {name} (k1 VARCHAR, k2 VARCHAR, et {et_kind}, f1 INTEGER, f2 VARCHAR)")
    size = max(1, -(-len(history) // batches))
    for start in range(0, len(history), size):
        insert(con, name, [(a, b, as_time(c, et_kind), d, e) for a, b, c, d, e in history[start:start + size]])
    con.execute(f"CREATE OR REPLACE TABLE spine (k1 VARCHAR, k2 VARCHAR, ts {spine_kind}, label INTEGER, {q.ROW} BIGINT)")
    insert(con, "spine", [(a, b, as_time(c, spine_kind), i, i) for i, (a, b, c) in enumerate(spine_rows)])


def types_of(con, relation: str) -> t.Dict[str, exp.DataType]:
    return {r[0]: exp.DataType.build(r[1], dialect="duckdb") for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def spine_of(con) -> Spine:
    columns = types_of(con, "spine")
    columns.pop(q.ROW)
    return Spine("spine", columns, "ts")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), spine_rows=spines(), ttl=ttls, composite=st.booleans(),
       et_kind=st.sampled_from(["DATE", "TIMESTAMP"]), spine_kind=st.sampled_from(["DATE", "TIMESTAMP"]))
def test_both_forms_match_the_oracle(history, spine_rows, ttl, composite, et_kind, spine_kind):
    rows, batches = history
    group_keys = ("k1", "k2") if composite else ("k1",)
    con = CON
    load(con, rows, batches, et_kind, spine_rows, spine_kind)
    group = GroupTable("fg", "fg", group_keys, "et", types_of(con, "fg"))
    plan = build_plan(spine_of(con), [GroupRequest(group, ["f1", "f2"], ttl=ttl)])
    expected = oracle(rows, group_keys, et_kind, spine_rows, spine_kind, ttl)
    for form in FORMS:
        result = con.execute(render_plan(plan, form)).fetchall()
        assert [r[3] for r in result] == list(range(len(spine_rows))), form  # spine order, one row per spine row
        assert [r[:3] for r in result] == [(a, b, as_time(c, spine_kind)) for a, b, c in spine_rows], form
        assert [tuple(r[4:]) for r in result] == expected, form


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=histories(), second=histories(), spine_rows=spines(), ttl_a=ttls, ttl_b=ttls)
def test_several_groups_in_one_call(first, second, spine_rows, ttl_a, ttl_b):
    con = CON
    load(con, first[0], first[1], "TIMESTAMP", spine_rows, "TIMESTAMP", name="fg_a")
    load(con, second[0], second[1], "DATE", spine_rows, "TIMESTAMP", name="fg_b")
    group_a = GroupTable("a", "fg_a", ("k1",), "et", types_of(con, "fg_a"))
    group_b = GroupTable("b", "fg_b", ("k1", "k2"), "et", types_of(con, "fg_b"))
    plan = build_plan(spine_of(con), [GroupRequest(group_a, ["f2", "f1"], ttl=ttl_a), GroupRequest(group_b, ["f1"], ttl=ttl_b)],
                      full_feature_names=True)
    assert plan.output_columns == ["k1", "k2", "ts", "label", "a__f2", "a__f1", "b__f1"]
    want_a = oracle(first[0], ("k1",), "TIMESTAMP", spine_rows, "TIMESTAMP", ttl_a)
    want_b = oracle(second[0], ("k1", "k2"), "DATE", spine_rows, "TIMESTAMP", ttl_b)
    expected = [(a2, a1, b1) for (a1, a2), (b1, _) in zip(want_a, want_b)]
    for form in FORMS:
        assert [tuple(r[4:]) for r in con.execute(render_plan(plan, form)).fetchall()] == expected, form


def test_spine_problems_are_reported_together():
    con = duckdb.connect()
    load(con, [], 1, "DATE", [], "DATE")
    con.execute("ALTER TABLE spine RENAME COLUMN k2 TO f1")
    group = GroupTable("fg", "fg", ("k1", "k2"), "et", types_of(con, "fg"))
    spine = spine_of(con)
    spine.as_of = "when"
    with pytest.raises(FeatureStoreError) as info:
        build_plan(spine, [GroupRequest(group, ["f1"])])
    message = str(info.value)
    assert "no column 'when'" in message and "'k2' (join key of feature group 'fg')" in message


def test_output_name_clash_asks_for_full_names():
    con = duckdb.connect()
    load(con, [], 1, "DATE", [], "DATE")
    con.execute("ALTER TABLE spine RENAME COLUMN label TO f1")
    group = GroupTable("fg", "fg", ("k1",), "et", types_of(con, "fg"))
    with pytest.raises(FeatureStoreError, match="clashes with the spine; ask for full feature names"):
        build_plan(spine_of(con), [GroupRequest(group, ["f1"])])
    assert build_plan(spine_of(con), [GroupRequest(group, ["f1"])], full_feature_names=True).output_columns[-1] == "fg__f1"


def test_portable_form_renders_for_starrocks():
    """No ASOF, QUALIFY or NULLS FIRST/LAST: the portable form is plain window SQL that StarRocks parses."""
    import sqlglot

    con = duckdb.connect()
    load(con, [], 1, "DATE", [], "TIMESTAMP")
    group = GroupTable("fg", "fg", ("k1",), "et", types_of(con, "fg"))
    plan = build_plan(spine_of(con), [GroupRequest(group, ["f1", "f2"], ttl=timedelta(days=7))])
    text = render_plan(plan, "portable", "starrocks")
    assert "ASOF" not in text and "QUALIFY" not in text and "NULLS" not in text
    assert sqlglot.parse_one(text, read="starrocks") is not None
    with pytest.raises(FeatureStoreError, match="DuckDB only"):
        render_plan(plan, "asof", "starrocks")
