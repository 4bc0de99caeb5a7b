"""Who gets failure alerts: the configured owners, or nobody (no callback at all)."""

from insight_hub.orchestration.alerts import with_failure_alerts
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
