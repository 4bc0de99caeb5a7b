"""WAREHOUSE_URL is honoured: rows land in that server, and nothing embedded starts."""

import subprocess
import sys

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.pipeline import run_pipeline
from insight_hub.warehouse import EmbeddedPostgres
from tests.conftest import make_settings, server_home

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def other_server():
    with server_home("other-pg") as home:
        server = EmbeddedPostgres(home, preferred_port=0)
        server.start()
        server.ensure_database("elsewhere")
        yield server
        server.stop()


def test_source_dag_loads_into_the_configured_warehouse(other_server, warehouse, tmp_path):
    home = tmp_path / "home"
    landing = tmp_path / "landing"
    truth = generate(landing, DemoConfig(customers=120, days=2, seed=9))
    url = other_server.url("elsewhere")
    settings = make_settings(home, WAREHOUSE_URL=url, INSIGHT_HUB_LANDING_DIR=str(landing))

    report = run_pipeline(settings, DemoConfig(), echo=lambda *_: None, dag_ids=["source_crm"])

    assert report.dag_runs == {"source_crm": "success"}
    assert report.warehouse == url
    with psycopg.connect(url) as conn:
        accounts = conn.execute("select count(*) from raw.account").fetchone()[0]
    assert accounts == truth["files"]["crm/accounts.csv"]["rows"]
    # The session's default warehouse never saw this landing folder.
    with psycopg.connect(warehouse) as conn:
        exists = conn.execute("select to_regclass('ops.load_batch')").fetchone()[0]
        seen = (
            conn.execute(
                "select count(*) from ops.load_batch where source_file like %s", (f"{landing}%",)
            ).fetchone()[0]
            if exists
            else 0
        )
    assert seen == 0
    assert not (home / "pg").exists(), "no embedded server may start when WAREHOUSE_URL is set"


def test_cli_reports_an_unreachable_warehouse_in_one_line(tmp_path):
    env = {
        "WAREHOUSE_URL": "postgresql://hub:s3cret@127.0.0.1:1/nowhere",
        "INSIGHT_HUB_HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "insight_hub.cli", "run"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1, "a single line, no traceback"
    assert proc.stderr.startswith(
        "error: cannot reach the warehouse at postgresql://hub:***@127.0.0.1:1/nowhere"
    )
    assert "s3cret" not in proc.stderr + proc.stdout


def test_cli_reports_a_missing_landing_folder(tmp_path, warehouse, settings):
    env = {
        "WAREHOUSE_URL": warehouse,
        "INSIGHT_HUB_HOME": str(tmp_path),
        "INSIGHT_HUB_LANDING_DIR": str(tmp_path / "no-such-folder"),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "insight_hub.cli", "run"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"error: landing folder {tmp_path / 'no-such-folder'} (INSIGHT_HUB_LANDING_DIR) does not exist"
    )
