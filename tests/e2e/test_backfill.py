"""`airflow backfill` over 30 days of contact-centre exports, run by the real scheduler.

The reference is the same 30 days loaded one day at a time, each day's file landed and loaded before the
next arrives. The backfill must leave the same rows (count and checksum of every raw column but where the
row came from), one published batch per file, and a second backfill over the same dates must change
nothing: every file is already in the ledger, so each run's publish skips.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.runner import load_entity
from insight_hub.warehouse import embedded_server, ensure_warehouse, sqlalchemy_url
from tests.conftest import make_settings, server_home
from tests.e2e.airflow_services import create_database, raw_fingerprints, running_airflow

pytestmark = pytest.mark.e2e

DEMO = DemoConfig(customers=100, days=30, seed=31)
FIRST, LAST = DEMO.start, DEMO.start + timedelta(days=DEMO.days - 1)
ENTITIES = ("agent", "interaction")


@pytest.fixture(scope="module")
def backfilled(warehouse, settings):
    server = embedded_server(settings)
    for name in ("t_backfill_daily", "t_backfill_wh", "t_backfill_airflow"):
        create_database(server.url("postgres"), name)
    with server_home("backfill") as home:
        generate(home / "gen", DEMO)
        calls = sorted((home / "gen" / "contact_centre").glob("calls_*.csv"))
        assert len(calls) == DEMO.days

        # One run per day: the day's export lands, then the contact centre's entities load.
        daily_url = server.url("t_backfill_daily")
        ensure_warehouse(daily_url)
        daily_landing = home / "daily" / "contact_centre"
        daily_landing.mkdir(parents=True)
        shutil.copy(home / "gen" / "contact_centre" / "agents.csv", daily_landing)
        daily_settings = make_settings(home / "daily-hub", INSIGHT_HUB_LANDING_DIR=str(home / "daily"))
        for call_file in calls:
            shutil.copy(call_file, daily_landing)
            for entity in ENTITIES:
                load_entity(daily_url, "contact_centre", entity, settings=daily_settings)
        one_run_per_day = raw_fingerprints(daily_url, ENTITIES)

        # The backfill: all 30 days have landed; the scheduler runs one source DAG run per day.
        shutil.copytree(home / "gen" / "contact_centre", home / "landing" / "contact_centre")
        url, metadata_url = server.url("t_backfill_wh"), server.url("t_backfill_airflow")
        ensure_warehouse(url)
        run_settings = make_settings(
            home / "hub",
            WAREHOUSE_URL=url,
            INSIGHT_HUB_LANDING_DIR=str(home / "landing"),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url(metadata_url),
        )
        after = []
        with running_airflow(run_settings, url, metadata_url) as airflow:
            airflow.wait_for_dags("source_contact_centre")
            airflow.cli("dags", "unpause", "source_contact_centre")
            for reprocess in ("none", "completed"):
                airflow.cli(
                    "backfill", "create", "--dag-id", "source_contact_centre",
                    "--from-date", FIRST.isoformat(), "--to-date", LAST.isoformat(),
                    "--reprocess-behavior", reprocess, "--max-active-runs", "3",
                )  # fmt: skip
                airflow.wait_for(
                    f"backfill {len(after) + 1} to complete",
                    lambda: (
                        airflow.query("select count(*) from backfill where completed_at is null")[0][0] == 0
                    ),
                    timeout=900,
                    interval=10,
                )
                after.append(raw_fingerprints(url, ENTITIES))
            # A reprocessing backfill reruns the same DAG runs (one per logical date); each backfill
            # records the runs it made or reran.
            runs = airflow.query(
                "select b.backfill_id, r.state, count(*) from backfill_dag_run b "
                "join dag_run r on r.id = b.dag_run_id group by b.backfill_id, r.state order by b.backfill_id"
            )
        yield {"one_run_per_day": one_run_per_day, "after": after, "runs": runs, "files": len(calls) + 1}


def test_each_backfill_ran_one_successful_run_per_day(backfilled):
    (first_id, *_), (second_id, *_) = backfilled["runs"]
    assert backfilled["runs"] == [(first_id, "success", DEMO.days), (second_id, "success", DEMO.days)]


def test_the_backfill_loads_what_one_run_per_day_loads(backfilled):
    first, _ = backfilled["after"]
    reference = backfilled["one_run_per_day"]
    assert first == reference
    # Each file is one published batch: 30 days of calls and the agents list.
    assert first["batches"] == [("published", backfilled["files"])]
    assert first["interaction"][0] > DEMO.customers * DEMO.days * 0.03


def test_a_second_backfill_changes_nothing(backfilled):
    first, second = backfilled["after"]
    assert second == first
