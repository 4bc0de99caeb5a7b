"""Who gets failure and deadline alerts: the configured owners, or nobody (no callback at all)."""

from datetime import timedelta

from insight_hub.orchestration.alerts import deadline_alert, deadline_message, with_failure_alerts
from tests.conftest import make_settings


def test_without_owners_tasks_get_no_failure_callback(tmp_path):
    args = with_failure_alerts({"retries": 2}, make_settings(tmp_path))
    assert args == {"retries": 2}


def test_owners_get_airflows_smtp_notifier(tmp_path):
    settings = make_settings(tmp_path, INSIGHT_HUB_ALERT_EMAILS=" a@hub.example,, b@hub.example ")
    args = with_failure_alerts({"retries": 2}, settings)
    (notifier,) = args["on_failure_callback"]
    assert args["retries"] == 2
    assert type(notifier).__name__ == "SmtpNotifier"
    assert notifier.to == ["a@hub.example", "b@hub.example"]
    assert notifier.smtp_conn_id == "smtp_default"
    assert notifier.from_email == "insight-hub@localhost"


def test_without_owners_there_is_no_deadline_alert(tmp_path):
    assert deadline_alert(timedelta(hours=2), make_settings(tmp_path)) is None


def test_a_deadline_alert_counts_from_when_the_run_was_queued(tmp_path):
    settings = make_settings(tmp_path, INSIGHT_HUB_ALERT_EMAILS="a@hub.example")
    alert = deadline_alert(timedelta(minutes=90), settings)
    assert type(alert.reference).__name__ == "DagRunQueuedAtDeadline"
    assert alert.interval == timedelta(minutes=90)
    # The triggerer imports the callback by this path and passes these arguments.
    assert alert.callback.path == "insight_hub.orchestration.alerts.deadline_missed"
    assert alert.callback.kwargs == {
        "to": ["a@hub.example"],
        "from_email": "insight-hub@localhost",
        "finish_within": "1:30:00",
    }


def test_the_deadline_message_names_the_run_and_escapes_what_it_quotes():
    context = {
        "dag_run": {"dag_id": "transform", "dag_run_id": "asset_triggered__<x>", "state": "running",
                    "queued_at": "2026-11-23T06:00:00Z"},
        "deadline": {"id": "d1", "deadline_time": "2026-11-23T08:00:00Z"},
    }  # fmt: skip
    subject, body = deadline_message(context, "2:00:00")
    assert subject == "[insight-hub] transform not finished within 2:00:00 (asset_triggered__<x>)"
    assert "<tr><td>Run</td><td>asset_triggered__&lt;x&gt;</td></tr>" in body
    assert "<tr><td>Deadline</td><td>2026-11-23T08:00:00Z</td></tr>" in body
    # The link opens the run in the Airflow UI.
    assert "/dags/transform/runs/asset_triggered__%3Cx%3E</a>" in body
