"""E-mail to the pipeline's owners when a task fails (a rejected batch fails its validate task).

The notifier is Airflow's own SmtpNotifier on the `smtp_default` connection; this module only decides
who gets it and what it says. The message holds the DAG, task, run, try, the error's first line (load
errors name files, expectations and counts, never row values) and a link to the task's log.
"""

from __future__ import annotations

from pathlib import Path

from insight_hub.settings import Settings, get_settings

TEMPLATE = Path(__file__).parent / "templates" / "task_failed.html"
SUBJECT = "[insight-hub] {{ ti.dag_id }}.{{ ti.task_id }} failed ({{ run_id }})"


def failure_notifier(settings: Settings | None = None):
    """An on_failure_callback for tasks, or None when no owner address is configured."""
    settings = settings or get_settings()
    if not settings.alert_recipients:
        return None
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(
        to=settings.alert_recipients,
        from_email=settings.alert_from,
        subject=SUBJECT,
        html_content=TEMPLATE.read_text(),
        smtp_conn_id="smtp_default",
    )


def with_failure_alerts(default_args: dict, settings: Settings | None = None) -> dict:
    """`default_args` plus the failure e-mail when owners are configured."""
    notifier = failure_notifier(settings)
    return {**default_args, "on_failure_callback": [notifier]} if notifier else dict(default_args)
