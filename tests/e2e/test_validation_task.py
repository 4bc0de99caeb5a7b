"""In Airflow, validation is a task of its own: a rejected batch fails it, nothing is published, and the
pipeline's owners get an e-mail saying which DAG, task and run failed and why."""

import re

import psycopg
import pytest

from insight_hub.demo import DemoConfig
from insight_hub.pipeline import PipelineFailed, run_pipeline
from tests.conftest import html_body, make_settings

pytestmark = pytest.mark.e2e


def test_a_rejected_batch_fails_the_validate_task_and_the_dag_run(fresh_db, tmp_path, airflow_smtp):
    inbox = airflow_smtp
    landing = tmp_path / "landing"
    (landing / "contact_centre").mkdir(parents=True)
    (landing / "contact_centre" / "agents.csv").write_text(
        "agent_id,name,team,site,cost_per_hour\nA1,Ann,t,s,-1\nA2,Bob,t,s,-2\nA3,Cy,t,s,-3\nA4,Di,t,s,20\n"
    )
    settings = make_settings(
        tmp_path / "home",
        WAREHOUSE_URL=fresh_db,
        INSIGHT_HUB_LANDING_DIR=str(landing),
        INSIGHT_HUB_ALERT_EMAILS="data.owner@hub.example, oncall@hub.example",
    )

    with pytest.raises(PipelineFailed, match="source_contact_centre finished failed") as failed:
        run_pipeline(settings, DemoConfig(), echo=lambda *_: None, dag_ids=["source_contact_centre"])

    log = re.search(r"see (\S+)$", str(failed.value)).group(1)
    text = open(log).read()
    # The validate task's error names the failed expectation and its count, never a row's values.
    assert "validate_agent" in text
    assert "3 of 4 rows failed row checks, above the 10% limit (cost_per_hour is negative: 3)" in text
    assert "Ann" not in text and "Bob" not in text
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select status from ops.load_batch where entity = 'agent'").fetchall() == [
            ("rejected",)
        ]
        assert conn.execute("select count(*) from raw.agent").fetchone()[0] == 0
        # Every outcome of the rejected batch is stored for the scorecard.
        failed_checks = conn.execute(
            "select expectation, rows_failed from ops.dq_result where not success and severity = 'error'"
        ).fetchall()
    assert failed_checks == [("expect_column_values_to_be_between(cost_per_hour)", 3)]

    # One alert, to both owners, naming the DAG, task, run and the rejection; no row values.
    assert len(inbox) == 1, [m["Subject"] for m in inbox]
    alert = inbox[0]
    assert alert["X-Envelope-To"] == "data.owner@hub.example, oncall@hub.example"
    assert alert["Subject"].startswith("[insight-hub] source_contact_centre.validate_agent failed (")
    body = html_body(alert)
    assert "3 of 4 rows failed row checks, above the 10% limit (cost_per_hour is negative: 3)" in body
    run_id = alert["Subject"].rsplit("(", 1)[1].rstrip(")")
    assert f"<td>Run</td><td>{run_id}</td>" in body
    # The link opens the failed try in the Airflow UI.
    assert "/dags/source_contact_centre/runs/" in body and "/tasks/validate_agent?try_number=1" in body
    assert "Ann" not in body and "Bob" not in body
