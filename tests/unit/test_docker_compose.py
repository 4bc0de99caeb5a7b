"""docker-compose.yml, checked without a Docker engine: the stack wires the product's code and holds no secrets."""

import re

import yaml

from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_and_product_folders():
    services = _compose()["services"]
    assert {"airflow-db", "warehouse", "mailpit"} | AIRFLOW_SERVICES <= set(services)
    for name in AIRFLOW_SERVICES:
        mounts = {m.split(":")[0] for m in services[name]["volumes"]}
        assert {"./dags", "./plugins", "./dbt_project", "./expectations"} <= mounts, name
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert env["AIRFLOW_CONN_WAREHOUSE"].startswith("postgresql://")
        assert "AIRFLOW_CONN_SMTP_DEFAULT" in env


def test_no_credentials_or_floating_images():
    text = COMPOSE.read_text()
    # Every password is a required variable from .env: ${NAME:?...}, never a literal or a default.
    for match in re.finditer(r"(PASSWORD[A-Z_]*:\s*|:)(\$\{[^}]*\})", text):
        assert ":?" in match.group(2), match.group(0)
    assert "POSTGRES_PASSWORD: ${" in text
    for name, service in _compose()["services"].items():
        image = service.get("image", "")
        assert image and ":" in image and not image.endswith(":latest"), f"{name} image must be pinned"
