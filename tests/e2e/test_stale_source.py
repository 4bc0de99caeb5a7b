"""A source that stops arriving: its DAG's check_freshness task fails and the owners get one alert naming the
stale table, its last load and the limit; while the source is fresh, or with the check set to warn, nothing
is sent."""

import shutil

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.pipeline import PipelineFailed, run_pipeline
from tests.conftest import html_body, make_settings

pytestmark = pytest.mark.e2e

OWNER = "data.owner@hub.example"


def test_a_stale_source_fails_its_freshness_check_and_alerts_the_owners(fresh_db, tmp_path, airflow_smtp):
    inbox = airflow_smtp
    generate(tmp_path / "gen", DemoConfig(customers=40, days=1, seed=5, invalid_rate=0.0))
    shutil.copytree(tmp_path / "gen" / "contact_centre", tmp_path / "landing" / "contact_centre")

    def run(**overrides):
        settings = make_settings(
            tmp_path / "home",
            WAREHOUSE_URL=fresh_db,
            INSIGHT_HUB_LANDING_DIR=str(tmp_path / "landing"),
            INSIGHT_HUB_ALERT_EMAILS=OWNER,
            **overrides,
        )
        return run_pipeline(settings, DemoConfig(), echo=lambda *_: None, dag_ids=["source_contact_centre"])

    # Fresh: the calls load and the check passes.
    assert run().dag_runs == {"source_contact_centre": "success"}
    assert inbox == []

    # Three days pass with no new export: past the contact centre's 50-hour limit.
    with psycopg.connect(fresh_db) as conn:
        conn.execute("update raw.interaction set _loaded_at = _loaded_at - interval '3 days'")
        last_loaded = conn.execute("select max(_loaded_at) from raw.interaction").fetchone()[0]
    with pytest.raises(PipelineFailed, match="source_contact_centre finished failed"):
        run()
    (alert,) = inbox
    assert alert["X-Envelope-To"] == OWNER
    assert alert["Subject"].startswith("[insight-hub] source_contact_centre.check_freshness failed (")
    body = html_body(alert)
    assert (
        f"contact_centre is stale: contact_centre.interaction last loaded {last_loaded:%Y-%m-%d %H:%M} UTC, "
        "later than its limit of 2 days, 2:00:00"
    ) in body

    # Set to warn, the same stale source lets the run succeed and sends nothing more.
    assert run(INSIGHT_HUB_FAIL_ON_STALE_SOURCE=False).dag_runs == {"source_contact_centre": "success"}
    assert len(inbox) == 1
