"""docker-compose.yml, checked without a Docker engine: every service, volume and variable the product needs
is there, wired the way Airflow's CeleryExecutor and the product expect, with no credential built in; and,
where Debian's docker-compose is installed, the file is what `docker-compose config` accepts."""

import re
import shutil
import subprocess

import pytest
import yaml

from insight_hub.settings import Settings
from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
SERVICES = AIRFLOW_SERVICES | {
    "airflow-db",
    "redis",
    "warehouse",
    "mailpit",
    "metabase-db",
    "metabase",
    "metabase-setup",
}
ONE_SHOT = {"airflow-init", "metabase-setup"}
# The same value in every Airflow container, or components cannot talk to each other or read each other's work.
SHARED_AIRFLOW_SETTINGS = {
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_CONN_WAREHOUSE",
    "AIRFLOW_CONN_SMTP_DEFAULT",
    "INSIGHT_HUB_PII_KEY",
    "INSIGHT_HUB_HOME",
}


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _variables(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+)", text))


def test_every_service_the_stack_needs_is_there_with_a_pinned_image():
    services = _compose()["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        image = service.get("image", "")
        assert re.search(r":v?\d+(\.\d+)+", image) and not image.endswith(":latest"), f"{name}: {image}"


def test_every_long_running_service_has_a_health_check_and_one_shots_do_not_restart():
    for name, service in _compose()["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
        else:
            assert service["healthcheck"]["test"], name
            assert service["restart"] == "unless-stopped", name


def test_airflow_runs_celery_on_redis_with_one_configuration_and_the_products_folders():
    services = _compose()["services"]
    environments = {name: services[name]["environment"] for name in AIRFLOW_SERVICES}
    reference = environments["airflow-scheduler"]
    assert reference["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert (
        reference["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        and "@redis:6379" in reference["AIRFLOW__CELERY__BROKER_URL"]
    )
    assert reference["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert (
        reference["AIRFLOW_CONN_WAREHOUSE"].startswith("postgresql://")
        and "@warehouse:" in reference["AIRFLOW_CONN_WAREHOUSE"]
    )
    assert reference["AIRFLOW_CONN_SMTP_DEFAULT"].startswith("smtp://mailpit:1025")
    for name, env in environments.items():
        for setting in SHARED_AIRFLOW_SETTINGS:
            assert env[setting] == reference[setting], f"{name}: {setting}"
    assert services["airflow-worker"]["command"] == "celery worker"
    for name in AIRFLOW_SERVICES:
        mounts = {m.split(":")[0] for m in services[name]["volumes"]}
        assert {"./dags", "./plugins", "./dbt_project", "./expectations", "./examples"} <= mounts, name
        assert {"airflow-logs", "insight-hub-home"} <= mounts, name
        if name != "airflow-init":
            assert (
                services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
            )


def test_the_products_variables_are_real_settings():
    """A mistyped INSIGHT_HUB_* variable would be silently ignored by the product; each one must be a setting."""
    known = {field.validation_alias or name for name, field in Settings.model_fields.items()}
    env = _compose()["services"]["airflow-scheduler"]["environment"]
    used = {name for name in env if name.startswith("INSIGHT_HUB_")}
    assert used and used <= known, used - known


def test_metabase_reads_the_warehouse_through_its_read_only_login():
    services = _compose()["services"]
    setup = services["metabase-setup"]["environment"]
    assert setup["METABASE_WAREHOUSE_HOST"] == "warehouse"
    assert setup["METABASE_WAREHOUSE_USER"] == "metabase"
    assert (
        setup["METABASE_WAREHOUSE_PASSWORD"]
        == services["warehouse"]["environment"]["METABASE_WAREHOUSE_PASSWORD"]
    )
    assert "./docker/warehouse-init:/docker-entrypoint-initdb.d:ro" in services["warehouse"]["volumes"]
    assert (ROOT / "docker" / "warehouse-init" / "10-reader-logins.sh").exists()
    assert (
        "./docker/metabase_setup.py:/opt/insight-hub/docker/metabase_setup.py:ro"
        in services["metabase-setup"]["volumes"]
    )
    assert services["metabase-setup"]["depends_on"]["metabase"]["condition"] == "service_healthy"


def test_the_warehouse_plans_as_the_embedded_server_does():
    from insight_hub.warehouse.embedded import PLANNER_SETTINGS

    command = _compose()["services"]["warehouse"]["command"]
    assert command[0] == "postgres"
    assert " ".join(command[1:]) == PLANNER_SETTINGS


def test_every_named_volume_is_declared_and_used():
    compose = _compose()
    used = {
        mount.split(":")[0]
        for service in compose["services"].values()
        for mount in service.get("volumes", [])
        if not mount.startswith(".")
    }
    assert used == set(compose["volumes"])


def test_no_credential_is_built_in_and_env_example_lists_every_variable():
    text = COMPOSE.read_text()
    # Every secret is a required variable from .env: ${NAME:?...}, never a literal or a default.
    secrets = {name for name in _variables(text) if re.search(r"PASSWORD|SECRET|KEY", name)}
    assert {"AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY", "INSIGHT_HUB_PII_KEY", "REDIS_PASSWORD"} <= secrets
    for name in secrets:
        for match in re.finditer(r"\$\{" + name + r"([^}]*)\}", text):
            assert match.group(1).startswith(":?"), match.group(0)
    assert "POSTGRES_PASSWORD: ${" in text
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert secrets <= set(example), secrets - set(example)
    assert set(example) <= _variables(text), set(example) - _variables(text)


docker_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed"
)


def _config(env_file) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "--file", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@docker_compose
def test_docker_compose_accepts_the_file_with_the_example_env():
    result = _config(ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == SERVICES
    assert not re.search(r"(?<!\$)\$\{", result.stdout), "a variable was left unresolved"
    worker = resolved["services"]["airflow-worker"]["environment"]
    assert worker["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker["AIRFLOW__CELERY__BROKER_URL"] == "redis://:change-me@redis:6379/0"


@docker_compose
def test_docker_compose_refuses_to_start_without_a_secret(tmp_path):
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines() if not line.startswith("REDIS_PASSWORD=")]
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(lines) + "\n")
    result = _config(env_file)
    assert result.returncode != 0
    assert "set REDIS_PASSWORD in .env" in result.stderr
