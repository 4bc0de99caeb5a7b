"""The pipeline runs its DAGs one after another in one Airflow process: each DAG's output in its own log,
each run's state reported, and a DAG that cannot run named in the failure."""

import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.orchestration.environment import airflow_env
from insight_hub.pipeline import PipelineFailed, run_dags, run_pipeline
from tests.conftest import make_settings

pytestmark = pytest.mark.e2e


def test_two_dags_in_one_process_each_with_its_log(fresh_db, tmp_path):
    landing = tmp_path / "landing"
    generate(landing, DemoConfig(customers=60, days=1, seed=4))
    settings = make_settings(tmp_path / "home", WAREHOUSE_URL=fresh_db, INSIGHT_HUB_LANDING_DIR=str(landing))
    said = []

    report = run_pipeline(settings, DemoConfig(), echo=said.append, dag_ids=["source_crm", "source_sales"])

    assert report.dag_runs == {"source_crm": "success", "source_sales": "success"}
    assert said[-2:] == ["running DAG source_crm ...", "running DAG source_sales ..."]
    crm_log, sales_log = (report.logs[d].read_text() for d in ("source_crm", "source_sales"))
    # Each log holds its own DAG's tasks and none of the other's.
    assert "task_id=stage_account" in crm_log and "task_id=stage_order" not in crm_log
    assert "task_id=stage_order" in sales_log and "task_id=stage_account" not in sales_log
    assert "DagRun Finished: dag_id=source_sales" in sales_log


def test_a_dag_that_cannot_run_is_named(fresh_db, tmp_path):
    settings = make_settings(tmp_path / "home", WAREHOUSE_URL=fresh_db)

    with pytest.raises(PipelineFailed, match="DAG no_such_dag did not finish") as failed:
        run_pipeline(
            settings, DemoConfig(customers=20, days=1), echo=lambda *_: None, dag_ids=["no_such_dag"]
        )

    runner_log = tmp_path / "home" / "logs" / "dag-runs.log"
    assert str(runner_log) in str(failed.value)
    assert "Dag 'no_such_dag' could not be found" in runner_log.read_text()


def test_a_failed_parse_runs_no_dag(fresh_db, tmp_path):
    # The manifest is written while the DAG runner starts and migrates Airflow's database: a broken dbt
    # profile fails the parse, the error is raised, and the runner, told nothing, runs no DAG.
    settings = make_settings(tmp_path / "home", WAREHOUSE_URL=fresh_db)
    env = airflow_env(settings, fresh_db) | {"WAREHOUSE_PORT": "not-a-port"}
    logs = tmp_path / "logs"
    said = []

    with pytest.raises(
        PipelineFailed,
        match=r"(?s)dbt parse failed: \d\d:\d\d:\d\d  Encountered an error:.*'not-a-port' into type 'number'",
    ):
        run_dags(["source_crm"], "2026-12-01T00:00:00+00:00", env, logs, said.append)

    assert said == []
    assert "Database migration done!" in (logs / "airflow-db-migrate.log").read_text()
    assert "no manifest" in (logs / "dag-runs.log").read_text()
    assert not (logs / "source_crm.log").exists()


def test_a_failed_migration_is_named(fresh_db, tmp_path):
    settings = make_settings(tmp_path / "home", WAREHOUSE_URL=fresh_db)
    env = airflow_env(settings, fresh_db)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "postgresql+psycopg://nobody:x@127.0.0.1:9/none"
    logs = tmp_path / "logs"

    with pytest.raises(PipelineFailed, match="`airflow db migrate` failed; see .*airflow-db-migrate.log"):
        run_dags(["source_crm"], "2026-12-01T00:00:00+00:00", env, logs, lambda *_: None)

    assert "127.0.0.1" in (logs / "dag-runs.log").read_text()
    assert not (logs / "source_crm.log").exists()
