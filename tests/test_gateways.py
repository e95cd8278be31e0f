"""profiles.yml -> SQLMesh gateways: secrets stay environment references, and only requested gateways load."""

from __future__ import annotations

import yaml

from seeknal_sqlmesh.runtime.config import active_gateways, load_project_config, requested_gateways
from seeknal_sqlmesh.translators import translate_project
from tests.helpers import orders_csv, write_project

PROFILES = """
connections:
  warehouse_pg:
    type: postgresql
    host: ${PG_HOST:db.internal}
    port: 5432
    database: analytics
    user: etl
    password: literal-secret-123
  other_pg:
    type: postgres
    host: other
    password: ${OTHER_PASSWORD}
starrocks:
  reporting:
    host: ${SR_HOST:localhost}
    password: ${SR_PASSWORD:}
"""


def project_with_remote_sources(tmp_path):
    return write_project(tmp_path / "p", {
        "orders.yml": {"kind": "source", "name": "orders", "source": "csv", "table": "data/orders.csv"},
        "crm.yml": {"kind": "source", "name": "crm", "source": "postgres", "table": "crm.accounts",
                    "params": {"connection": "warehouse_pg"}},
        "crm_clean.yml": {"kind": "transform", "name": "crm_clean", "inputs": [{"ref": "source.crm"}],
                          "transform": "SELECT id, name FROM ref('source.crm')"},
        "totals.yml": {"kind": "transform", "name": "totals", "inputs": [{"ref": "source.orders"}],
                       "transform": "SELECT customer_id, SUM(amount) AS total FROM input_0 GROUP BY 1"},
    }, files={"profiles.yml": PROFILES, "data/orders.csv": orders_csv()})


def test_secrets_are_environment_references_never_values(tmp_path):
    out = tmp_path / "out"
    translate_project(project_with_remote_sources(tmp_path), out)
    everything = "\n".join(p.read_text() for p in out.rglob("*") if p.is_file() and p.suffix in (".yaml", ".py", ".sql", ".json"))
    assert "literal-secret-123" not in everything
    settings = yaml.safe_load((out / "settings.yaml").read_text())
    pg = settings["gateways"]["warehouse_pg"]["connection"]
    assert pg["password"] == '{{ env_var("WAREHOUSE_PG_PASSWORD") }}'
    assert pg["host"] == '{{ env_var("PG_HOST", "db.internal") }}'
    assert settings["gateways"]["other_pg"]["connection"]["password"] == '{{ env_var("OTHER_PASSWORD") }}'
    assert settings["gateways"]["reporting"]["connection"]["type"] == "starrocks"
    # every gateway keeps SQLMesh state in the same local DuckDB file, in the data area beside the folder
    assert {g["state_connection"]["database"] for g in settings["gateways"].values()} == {"../out.data/state.duckdb"}


def test_models_on_remote_sources_run_on_their_gateway(tmp_path):
    out = tmp_path / "out"
    translate_project(project_with_remote_sources(tmp_path), out)
    assert "gateway warehouse_pg" in (out / "models/transform/crm_clean.sql").read_text()
    assert "gateway" not in (out / "models/transform/totals.sql").read_text()
    assert "FROM crm.accounts" in (out / "models/transform/crm_clean.sql").read_text()
    externals = yaml.safe_load((out / "external_models.yaml").read_text())
    assert externals == [{"name": "crm.accounts", "gateway": "warehouse_pg"}]


def test_only_requested_gateways_are_configured(tmp_path, monkeypatch):
    out = tmp_path / "out"
    translate_project(project_with_remote_sources(tmp_path), out)
    monkeypatch.setenv("PG_HOST", "db.example")
    config = load_project_config(out, argv=["sqlmesh", "plan"])
    assert set(config.gateways) == {"duckdb"}
    assert "models/transform/crm_clean.sql" in config.ignore_patterns
    config = load_project_config(out, argv=["sqlmesh", "--gateway", "warehouse_pg", "plan"])
    assert set(config.gateways) == {"duckdb", "warehouse_pg"}
    assert config.gateways["warehouse_pg"].connection.host == "db.example"
    assert "models/transform/crm_clean.sql" not in config.ignore_patterns
    # the DuckDB warehouse is anchored to the project folder (its data area beside it), not the working directory
    assert config.gateways["duckdb"].connection.database == str(tmp_path / "out.data" / "warehouse.duckdb")


def test_requested_gateways_from_cli_and_environment(monkeypatch):
    monkeypatch.setenv("SEEKNAL_SQLMESH_GATEWAYS", "a, b")
    assert requested_gateways(["sqlmesh", "--gateway=c", "-p", "x"]) == {"a", "b", "c"}
    monkeypatch.setenv("SEEKNAL_SQLMESH_GATEWAYS", "all")
    settings = {"default_gateway": "duckdb", "gateways": {"duckdb": {}, "pg": {}, "sr": {}}}
    assert set(active_gateways(settings, [])) == {"duckdb", "pg", "sr"}
