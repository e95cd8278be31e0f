"""The loader reads projects the way Seeknal 2.13 does and reports every problem with file, node and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from seeknal_sqlmesh.errors import ProjectError
from seeknal_sqlmesh.project import load_project
from seeknal_sqlmesh.project.templating import RuntimeValue, TemplateError, TemplateScope, resolve
from tests.helpers import write_project

MINI = Path(__file__).parent / "fixtures" / "mini"


def test_mini_project_nodes_and_edges():
    project, problems = load_project(MINI)
    assert not problems.items
    assert set(project.nodes) == {
        "source.orders", "source.customers", "transform.orders_clean", "transform.customer_orders",
        "rule.amount_positive", "exposure.customer_export", "feature_group.customer_features", "transform.big_orders",
    }
    assert project.edges["transform.customer_orders"] == ["transform.orders_clean", "source.customers"]
    assert project.edges["exposure.customer_export"] == ["transform.customer_orders"]
    # Python node edges come from @transform(inputs=...) and ctx.ref(...)
    assert project.edges["transform.big_orders"] == ["transform.orders_clean"]
    order = project.order
    assert order.index("source.orders") < order.index("transform.orders_clean") < order.index("transform.customer_orders")


def test_files_without_kind_and_common_folder_are_skipped(tmp_path):
    write_project(tmp_path, {
        "sql_pairs/q.yml": {"question": "how many?", "sql": "SELECT 1"},
        "common/sources.yml": {"sources": [{"id": "s", "ref": "source.a", "params": {"col": "x"}}]},
        "sources/a.yml": {"kind": "source", "name": "a", "source": "csv", "table": "a.csv"},
    })
    project, problems = load_project(tmp_path)
    assert list(project.nodes) == ["source.a"]
    assert not problems.items
    assert [w.file for w in problems.warnings] == ["seeknal/sql_pairs/q.yml"]
    assert "kind" in problems.warnings[0].message


def test_all_errors_in_one_pass_with_file_node_field(tmp_path):
    write_project(tmp_path, {
        "a.yml": "kind: transform\nname: broken\ntransform: [unclosed\n",
        "b.yml": {"kind": "widget", "name": "w"},
        "c.yml": {"kind": "source", "name": "nosource", "table": "x.csv"},
        "d.yml": {"kind": "transform", "name": "t1", "inputs": [{"ref": "source.missing"}], "transform": "SELECT 1"},
        "e.yml": {"kind": "transform", "name": "c1", "inputs": [{"ref": "transform.c2"}], "transform": "SELECT 1"},
        "f.yml": {"kind": "transform", "name": "c2", "inputs": [{"ref": "transform.c1"}], "transform": "SELECT 1"},
        "g.yml": {"kind": "transform", "name": "t1", "transform": "SELECT 2"},
    })
    _, problems = load_project(tmp_path)
    found = {(p.file, p.node, p.field) for p in problems.items}
    assert ("seeknal/a.yml", "", "") in found  # malformed YAML
    assert ("seeknal/b.yml", "widget.w", "kind") in found
    assert ("seeknal/c.yml", "source.nosource", "source") in found
    assert ("seeknal/d.yml", "transform.t1", "inputs") in found
    assert ("seeknal/e.yml", "transform.c1", "inputs") in found and ("seeknal/f.yml", "transform.c2", "inputs") in found
    assert ("seeknal/g.yml", "transform.t1", "name") in found  # duplicate id
    messages = " ".join(p.message for p in problems.items)
    assert "malformed YAML at line" in messages and "cycle" in messages and "duplicate" in messages
    with pytest.raises(ProjectError) as err:
        problems.raise_if_any()
    assert err.value.exit_code == 2 and "seeknal/b.yml: node 'widget.w', field 'kind'" in str(err.value)


def test_same_name_under_two_kinds_is_allowed(tmp_path):
    write_project(tmp_path, {
        "a.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "o.csv"},
        "b.yml": {"kind": "semantic_model", "name": "orders", "model": "ref('source.orders')", "entities": [], "measures": []},
    })
    project, problems = load_project(tmp_path)
    assert not problems.items
    assert project.edges["semantic_model.orders"] == ["source.orders"]


def test_profiles_keep_env_references(tmp_path):
    write_project(tmp_path, {}, files={"profiles.yml": """
        connections:
          pg:
            type: postgresql
            host: ${PG_HOST:localhost}
            port: 5432
            password: ${PG_PASSWORD}
        source_defaults:
          postgres: {connection: pg}
    """})
    project, problems = load_project(tmp_path)
    conn = project.profile.connections["pg"]
    assert conn.env_refs == {"host": ("PG_HOST", "localhost"), "password": ("PG_PASSWORD", None)}
    assert conn.values == {"port": 5432}
    assert project.profile.source_defaults == {"postgresql": {"connection": "pg"}}


def test_templating_order_and_runtime_values():
    scope = TemplateScope(params={"region": "EU"}, context={"project_id": "p"}, common={"orders.col": "amount", "rules.ok": "x > 0"})
    text = resolve("SELECT {{ orders.col }} FROM t WHERE r = '{{region}}' AND {{rules.ok}} AND d = '{{ today(-1) }}' {{ unknown }}", scope)
    assert "SELECT amount FROM t WHERE r = 'EU' AND x > 0 AND d = '__seeknal_rt_0__' {{ unknown }}" == text
    assert scope.runtime[0] == RuntimeValue("seeknal_date", ("day", -1))
    with pytest.raises(TemplateError, match="did you mean orders.col"):
        resolve("{{ orders.cols }}", scope)


def test_python_nodes_are_read_not_run(tmp_path):
    write_project(tmp_path, {"pipelines/nodes.py": '''
from seeknal.pipeline import source, feature_group
raise SystemExit("this file must never be executed by the loader")

@source(name="tx", source="csv", table="data/tx.csv")
def tx(ctx):
    pass

@feature_group(name="cust", entity="customer", inputs=["source.tx"])
def cust(ctx):
    df = ctx.ref("source.tx")
    return df
'''})
    project, problems = load_project(tmp_path)
    assert not problems.items
    assert project.nodes["source.tx"].source == "csv"
    fg = project.nodes["feature_group.cust"]
    assert fg.entity.join_keys == ["customer_id"] and fg.python
    assert project.edges["feature_group.cust"] == ["source.tx"]
