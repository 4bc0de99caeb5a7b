"""The warehouse goes down in the middle of a source DAG run under Airflow's real scheduler, and comes back.

The warehouse is a PostgreSQL server of its own (Airflow's metadata stays on the session's server, as it
would in production). Once the scheduled `source_contact_centre` run is under way the warehouse is
stopped; the task that reaches for it fails naming the refused connection and is put up for retry; the
warehouse starts again and the retries finish the run. The raw rows must equal a direct load of the same
files, with one published batch per file: nothing lost, nothing loaded twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.runner import load_entity
from insight_hub.warehouse import embedded_server, ensure_warehouse, sqlalchemy_url
from tests.conftest import make_settings, server_home
from tests.e2e.airflow_services import create_database, raw_fingerprints, running_airflow

pytestmark = pytest.mark.e2e

DEMO = DemoConfig(customers=100, days=3, seed=41)
ENTITIES = ("agent", "interaction")
DAG_ID = "source_contact_centre"


@pytest.fixture(scope="module")
def restarted(warehouse, settings):
    server = embedded_server(settings)
    for name in ("t_restart_reference", "t_restart_airflow"):
        create_database(server.url("postgres"), name)
    with server_home("restart-e2e") as home:
        generate(home / "gen", DEMO)
        shutil.copytree(home / "gen" / "contact_centre", home / "landing" / "contact_centre")
        files = len(list((home / "landing" / "contact_centre").glob("*.csv")))

        # The reference: the same files loaded straight into a warehouse that stays up.
        reference_url = server.url("t_restart_reference")
        ensure_warehouse(reference_url)
        reference_settings = make_settings(
            home / "reference-hub", INSIGHT_HUB_LANDING_DIR=str(home / "landing")
        )
        for entity in ENTITIES:
            load_entity(reference_url, "contact_centre", entity, settings=reference_settings)
        reference = raw_fingerprints(reference_url, ENTITIES)

        warehouse_server = embedded_server(make_settings(home / "warehouse"))
        warehouse_server.start()
        try:
            warehouse_server.ensure_database("insight_hub")
            url, metadata_url = warehouse_server.url("insight_hub"), server.url("t_restart_airflow")
            ensure_warehouse(url)
            run_settings = make_settings(
                home / "hub",
                WAREHOUSE_URL=url,
                INSIGHT_HUB_LANDING_DIR=str(home / "landing"),
                AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url(metadata_url),
            )
            with running_airflow(run_settings, url, metadata_url) as airflow:

                def count(sql: str) -> int:
                    return airflow.query(sql, DAG_ID)[0][0]

                airflow.wait_for_dags(DAG_ID)
                airflow.cli("dags", "unpause", DAG_ID)
                airflow.wait_for(
                    "the scheduled run to start",
                    lambda: count("select count(*) from dag_run where dag_id = %s and state = 'running'"),
                    300,
                    0.5,
                )
                warehouse_server.stop()
                airflow.wait_for(
                    "a task to fail against the stopped warehouse and wait for its retry",
                    lambda: count(
                        "select count(*) from task_instance where dag_id = %s and state = 'up_for_retry'"
                    ),
                    300,
                    0.5,
                )
                failed_while_down = airflow.query(
                    "select task_id from task_instance where dag_id = %s and state = 'up_for_retry'", DAG_ID
                )
                warehouse_server.start()
                airflow.wait_for(
                    "the run to finish once the warehouse is back",
                    lambda: count(
                        "select count(*) from dag_run where dag_id = %s and state in ('success', 'failed')"
                    ),
                    900,
                    5,
                )
                runs = airflow.query("select run_type, state from dag_run where dag_id = %s", DAG_ID)
                tasks = airflow.query(
                    "select task_id, state, try_number from task_instance where dag_id = %s order by 1",
                    DAG_ID,
                )
                folders = (Path(airflow.env["AIRFLOW_HOME"]), airflow.logs)
                logs = {
                    p.resolve()
                    for folder in folders
                    for p in folder.rglob("*.log")
                    if f"dag_id={DAG_ID}" in str(p)
                }
            after = raw_fingerprints(url, ENTITIES)
        finally:
            warehouse_server.stop()
        yield {
            "reference": reference,
            "after": after,
            "files": files,
            "runs": runs,
            "tasks": tasks,
            "failed_while_down": [task for (task,) in failed_while_down],
            "logs": logs,
        }


def test_the_run_succeeds_once_the_warehouse_is_back(restarted):
    assert restarted["runs"] == [("scheduled", "success")]
    states = {task: state for task, state, _ in restarted["tasks"]}
    assert states["publish_interaction"] == states["publish_agent"] == "success"
    retried = {task: tries for task, _, tries in restarted["tasks"] if tries > 1}
    assert set(restarted["failed_while_down"]) <= set(retried), (restarted["failed_while_down"], retried)


def test_the_failed_try_names_the_refused_connection(restarted):
    task = restarted["failed_while_down"][0]
    (first_try,) = [p for p in restarted["logs"] if f"task_id={task}" in str(p) and p.name == "attempt=1.log"]
    text = first_try.read_text(errors="replace")
    assert "Connection refused" in text and "127.0.0.1" in text, text[-3000:]


def test_nothing_is_lost_or_loaded_twice(restarted):
    assert restarted["after"] == restarted["reference"]
    assert restarted["after"]["batches"] == [("published", restarted["files"])]
    assert restarted["after"]["interaction"][0] > 0
