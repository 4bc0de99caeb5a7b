"""The product's DAGs under Airflow's real scheduler: API server, scheduler, DAG processor and triggerer
against the embedded PostgreSQL, the way an operator runs them.

A history is already loaded; one more day of calls lands. Unpausing `source_contact_centre` makes the
scheduler run it; its load updates the `raw.interaction` Asset (the unchanged agents list updates nothing),
which triggers exactly one transform run; the transform updates the marts Asset, which triggers the insight
run that e-mails every manager their extract. The transform's deadline is set shorter than a build, so the
triggerer sends the pipeline's owners a deadline alert while it runs. Every log,
XCom and rendered field Airflow wrote is then searched for the warehouse password and the PII key.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
import zipfile
from pathlib import Path

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.demo.landing import land_history_and_last_day
from insight_hub.ingest.runner import load_all_entities
from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
from insight_hub.warehouse import embedded_server, ensure_warehouse, sqlalchemy_url
from tests.conftest import make_settings, server_home, smtp_server
from tests.e2e.airflow_services import create_database, running_airflow

pytestmark = pytest.mark.e2e

DEMO = DemoConfig(customers=120, days=3, seed=23, invalid_rate=0.0)
OWNERS = "data.owner@hub.example"
PII_KEY = "pii-key-" + secrets.token_hex(8)
# The mail server takes mail only from a client logged in with these.
SMTP_LOGIN, SMTP_PASSWORD = "insight-hub", "smtp-password-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def scheduled_day(warehouse, settings):
    server = embedded_server(settings)
    create_database(server.url("postgres"), "t_scheduler_wh")
    create_database(server.url("postgres"), "t_scheduler_airflow")
    url, metadata_url = server.url("t_scheduler_wh"), server.url("t_scheduler_airflow")
    with server_home("scheduler") as home, smtp_server((SMTP_LOGIN, SMTP_PASSWORD)) as (smtp_port, inbox):
        generate(home / "gen", DEMO)
        land_history_and_last_day(home / "gen", home / "landing", home / "last_day")
        run_settings = make_settings(
            home / "hub",
            WAREHOUSE_URL=url,
            INSIGHT_HUB_LANDING_DIR=str(home / "landing"),
            INSIGHT_HUB_PII_KEY=PII_KEY,
            INSIGHT_HUB_ALERT_EMAILS=OWNERS,
            INSIGHT_HUB_TRANSFORM_FINISH_WITHIN="PT20S",
            INSIGHT_HUB_SEND_EXTRACTS="true",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlalchemy_url(metadata_url),
        )
        # The history, loaded the way the source DAGs load it (no Airflow involved).
        ensure_warehouse(url)
        load_all_entities(url, settings=run_settings)
        # One more day of calls lands.
        (last_call_file,) = (home / "last_day" / "contact_centre").glob("calls_*.csv")
        shutil.copy(last_call_file, home / "landing" / "contact_centre" / last_call_file.name)

        smtp = (
            f"smtp://{SMTP_LOGIN}:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}"
            "?disable_ssl=true&disable_tls=true&timeout=10&retry_limit=0"
        )
        with running_airflow(run_settings, url, metadata_url, AIRFLOW_CONN_SMTP_DEFAULT=smtp) as airflow:
            airflow.wait_for_dags("insight", "transform", "source_contact_centre")
            for dag_id in ("insight", "transform", "source_contact_centre"):
                airflow.cli("dags", "unpause", dag_id)

            def finished(dag_id):
                def check():
                    rows = airflow.query("select state from dag_run where dag_id = %s", dag_id)
                    return rows and all(state in ("success", "failed") for (state,) in rows)

                return check

            airflow.wait_for("the Asset-triggered transform run to finish", finished("transform"), 1200, 10)
            airflow.wait_for("the marts-triggered insight run to finish", finished("insight"), 300, 5)
            # The scheduler's next loops: a second transform or insight run would be created here if one were due.
            time.sleep(15)
            airflow.wait_for(
                "the deadline alert",
                lambda: any(m["Subject"].startswith("[insight-hub]") for m in inbox),
                120,
            )
        query, logs, env = airflow.query, airflow.logs, airflow.env
        yield {
            "query": query,
            "inbox": list(inbox),
            "url": url,
            "password": server.password(),
            "logs": logs,
            "env": env,
            "outbox": run_settings.home / "outbox",
        }


def test_the_source_run_loads_the_new_day_and_only_changed_entities_update_their_asset(scheduled_day):
    query = scheduled_day["query"]
    assert query("select run_type, state from dag_run where dag_id = 'source_contact_centre'") == [
        ("scheduled", "success")
    ]
    states = dict(query("select task_id, state from task_instance where dag_id = 'source_contact_centre'"))
    assert states["publish_interaction"] == "success"
    # agents.csv was loaded with the history: nothing new, so the task skips and its Asset is not updated.
    assert states["publish_agent"] == "skipped"
    events = query(
        "select a.name, e.source_dag_id, e.source_task_id from asset_event e join asset a on a.id = e.asset_id "
        "order by e.id"
    )
    assert events == [
        ("raw.interaction", "source_contact_centre", "publish_interaction"),
        ("marts", "transform", "marts_published"),
    ]


def test_the_asset_chain_triggers_exactly_one_transform_that_builds_the_marts(scheduled_day):
    query = scheduled_day["query"]
    runs = query("select id, run_type, state from dag_run where dag_id = 'transform'")
    assert [(run_type, state) for _, run_type, state in runs] == [("asset_triggered", "success")]
    consumed = query(
        "select a.name from dagrun_asset_event d join asset_event e on e.id = d.event_id "
        "join asset a on a.id = e.asset_id where d.dag_run_id = %s",
        runs[0][0],
    )
    assert consumed == [("raw.interaction",)]
    # Every task succeeded: the one `dbt build` and the task that closes it; one per model and snapshot,
    # and one for the tests of each that has tests; and the three of the product's own (prepare, sync
    # actions, publish).
    manifest = json.loads(MANIFEST_PATH.read_text())
    nodes = manifest["nodes"].values()
    built = {n["unique_id"] for n in nodes if n["resource_type"] in ("model", "snapshot")}
    tested = set().union(
        *(set(n["depends_on"]["nodes"]) & built for n in nodes if n["resource_type"] == "test")
    )
    task_states = query("select state, count(*) from task_instance where dag_id = 'transform' group by state")
    assert dict(task_states) == {"success": 2 + len(built) + len(tested) + 3}
    # Each reporting task found its result at once: none deferred to the triggerer, where a trigger that
    # fires at once can get the task failed by the scheduler (apache/airflow#72716).
    assert query("select count(*) from log where dag_id = 'transform' and event = 'deferred'") == [(0,)]
    with psycopg.connect(scheduled_day["url"]) as conn:
        last_call_day, contacts, raw_contacts = conn.execute(
            """select (select max(contact_date) from marts.fct_contact),
                      (select count(*) from marts.fct_contact),
                      (select count(distinct interaction_id) from raw.interaction)"""
        ).fetchone()
    assert str(last_call_day) == str(DEMO.start.fromordinal(DEMO.start.toordinal() + DEMO.days - 1))
    assert contacts == raw_contacts > 0
    # The run raised an action for every active signal of the new data.
    with psycopg.connect(scheduled_day["url"]) as conn:
        actions, signals = conn.execute(
            """select (select count(*) from ops.insight_action),
                      (select count(*) from intermediate.int_action_signals where is_active)"""
        ).fetchone()
    assert actions == signals > 0


def test_the_triggerer_sends_the_transform_deadline_alert(scheduled_day):
    (alert,) = [m for m in scheduled_day["inbox"] if m["Subject"].startswith("[insight-hub]")]
    (run_id,) = scheduled_day["query"]("select run_id from dag_run where dag_id = 'transform'")[0]
    assert alert["Subject"] == f"[insight-hub] transform not finished within 0:00:20 ({run_id})"
    assert alert["X-Envelope-To"] == OWNERS
    body = (
        next(p for p in alert.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    )
    assert f"<tr><td>Run</td><td>{run_id}</td></tr>" in body
    # A source's default deadline (two hours) was not missed, so it sent nothing.
    missed = scheduled_day["query"](
        "select r.dag_id from deadline d join dag_run r on r.id = d.dagrun_id where d.missed"
    )
    assert missed == [("transform",)]


def test_the_marts_asset_triggers_one_insight_run_that_emails_each_manager_once(scheduled_day):
    query = scheduled_day["query"]
    runs = query("select id, run_type, state from dag_run where dag_id = 'insight'")
    assert [(run_type, state) for _, run_type, state in runs] == [("asset_triggered", "success")]
    consumed = query(
        "select a.name from dagrun_asset_event d join asset_event e on e.id = d.event_id "
        "join asset a on a.id = e.asset_id where d.dag_run_id = %s",
        runs[0][0],
    )
    assert consumed == [("marts",)]
    with psycopg.connect(scheduled_day["url"]) as conn:
        managers = dict(conn.execute("select owner_id, owner_email from marts.dim_owner").fetchall())
        delivered = dict(conn.execute("select owner_id, kind from ops.extract_delivery").fetchall())
    extracts = [m for m in scheduled_day["inbox"] if m["Subject"].startswith("Customer insight")]
    assert len(managers) == 7 and delivered == dict.fromkeys(managers, "extract")
    assert sorted(m["X-Envelope-To"] for m in extracts) == sorted(managers.values())
    # Three days of calls hold no full week yet, so the e-mails carry tables and workbook but no charts
    # (tests/integration/insight/test_extracts.py reads a full e-mail with its charts).
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for message in extracts:
        assert {"text/html", xlsx} <= {p.get_content_type() for p in message.walk()}
    (summary,) = query("select value::text from xcom where dag_id = 'insight' and key = 'return_value'")[0]
    summary = json.loads(summary)
    assert summary["ready"] is True and sorted(summary["sent"]) == sorted(managers)


def _contents(path: Path) -> bytes:
    """A file's bytes; an XLSX (a zip of XML parts) unpacked, so text inside it can be searched."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as workbook:
        return b"".join(workbook.read(name) for name in workbook.namelist())


def test_no_secret_reaches_logs_xcom_rendered_fields_or_extracts(scheduled_day):
    env, query = scheduled_day["env"], scheduled_day["query"]
    secrets_known = {
        "warehouse password": scheduled_day["password"],
        "PII key": PII_KEY,
        "SMTP password": SMTP_PASSWORD,
    }
    log_files = [
        p for p in Path(env["AIRFLOW_HOME"]).rglob("*") if p.is_file() and p.suffix in {".log", ".json"}
    ]
    log_files += list(scheduled_day["logs"].glob("*.log"))
    task_logs = [p for p in log_files if "dag_id=" in str(p)]
    (succeeded,) = query("select count(*) from task_instance where state = 'success'")[0]
    assert len(task_logs) >= succeeded > 40, "every task that ran wrote its log"
    # What managers receive, as written to the outbox: each e-mail (.eml), its page (.html) and workbook.
    extracts = [p for p in scheduled_day["outbox"].rglob("*") if p.suffix in {".eml", ".html", ".xlsx"}]
    assert {p.suffix for p in extracts} == {".eml", ".html", ".xlsx"}
    xcoms = query("select value::text from xcom")
    rendered = query("select rendered_fields::text from rendered_task_instance_fields")
    assert xcoms and rendered
    for name, secret in secrets_known.items():
        assert len(secret) >= 8
        leaked = [str(p) for p in log_files if secret in p.read_text(errors="replace")]
        leaked += [str(p) for p in extracts if secret.encode() in _contents(p)]
        assert leaked == [], f"{name} in {leaked}"
        assert not any(secret in value for (value,) in xcoms), f"{name} in XCom"
        assert not any(secret in value for (value,) in rendered), f"{name} in rendered fields"
        assert not any(secret in m.as_string() for m in scheduled_day["inbox"]), f"{name} in an e-mail"
