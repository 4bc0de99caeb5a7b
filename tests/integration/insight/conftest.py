"""One demo hub (300 customers, 21 days), loaded, built by dbt and its actions raised, shared by the insight tests."""

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.runner import load_all_entities
from insight_hub.insight.actions import sync_actions
from insight_hub.warehouse import embedded_server
from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import make_settings, run_dbt


@pytest.fixture(scope="package")
def hub(warehouse, settings, tmp_path_factory):
    """The demo (300 customers, 21 days) loaded and built by dbt in its own database."""
    server = embedded_server(settings)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists t_extracts with (force)")
        conn.execute("create database t_extracts")
    url = server.url("t_extracts")
    tmp = tmp_path_factory.mktemp("extracts")
    generate(tmp / "landing", DemoConfig(customers=300, days=21, seed=11))
    hub_settings = make_settings(
        tmp / "home", INSIGHT_HUB_LANDING_DIR=str(tmp / "landing"), INSIGHT_HUB_DATA_DOCS=False
    )
    load_all_entities(url, settings=hub_settings)
    prepare_for_dbt(url, hub_settings)
    build = run_dbt(url, tmp / "target", "build")
    assert build.returncode == 0, build.stdout[-3000:]
    with psycopg.connect(url) as conn:
        sync_actions(conn)  # as the transform DAG does after the build
    yield url, tmp, hub_settings
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists t_extracts with (force)")
