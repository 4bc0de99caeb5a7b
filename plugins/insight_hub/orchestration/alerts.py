"""E-mail to the pipeline's owners when a task fails (a rejected batch fails its validate task), and when a
DAG run misses its deadline (a source or the transform not finished in time).

Failures go through Airflow's own SmtpNotifier on the `smtp_default` connection; this module only decides
who gets it and what it says. The message holds the DAG, task, run, try, the error's first line (load
errors name files, expectations and counts, never row values) and a link to the task's log.
Missed deadlines are Airflow Deadline Alerts: the scheduler notices them and the triggerer awaits
`deadline_missed`, which sends through the same connection with Airflow's SMTP hook.
"""

from __future__ import annotations

from datetime import timedelta
from html import escape
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


def deadline_alert(finish_within: timedelta, settings: Settings | None = None):
    """A Deadline Alert for a DAG: e-mail the owners when a run is not finished `finish_within` after it
    was queued. None when no owner address is configured, or deadline alerts are off."""
    settings = settings or get_settings()
    if not settings.alert_recipients or not settings.deadline_alerts:
        return None
    from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=finish_within,
        callback=AsyncCallback(
            deadline_missed,
            kwargs={
                "to": settings.alert_recipients,
                "from_email": settings.alert_from,
                "finish_within": str(finish_within),
            },
        ),
    )


def deadline_message(context: dict, finish_within: str) -> tuple[str, str]:
    """Subject and HTML body for a missed deadline, from the run Airflow passes the callback."""
    from urllib.parse import quote

    from airflow.configuration import conf

    run = context["dag_run"]  # the run as Airflow's REST API describes it
    dag_id, run_id = run["dag_id"], run["dag_run_id"]
    subject = f"[insight-hub] {dag_id} not finished within {finish_within} ({run_id})"
    link = f"{conf.get('api', 'base_url', fallback='').rstrip('/')}/dags/{dag_id}/runs/{quote(run_id)}"
    rows = [
        ("DAG", dag_id),
        ("Run", run_id),
        ("State", run.get("state")),
        ("Queued at", run.get("queued_at")),
        ("Deadline", context["deadline"]["deadline_time"]),
    ]
    table = "".join(f"<tr><td>{name}</td><td>{escape(str(value))}</td></tr>" for name, value in rows)
    table += f'<tr><td>Link</td><td><a href="{escape(link)}">{escape(link)}</a></td></tr>'
    body = (
        f"<p><b>{escape(dag_id)}</b> was not finished {escape(finish_within)} after it was queued.</p>"
        f"<table>{table}</table>"
        "<p>A source run that is late leaves its data stale; a late transform leaves the marts and the "
        "managers' extracts on the previous build. The run goes on: look at its running tasks in Airflow.</p>"
    )
    return subject, body


async def deadline_missed(to: list[str], from_email: str, finish_within: str, context: dict) -> None:
    """Awaited by Airflow's triggerer when a run misses its deadline."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    subject, body = deadline_message(context, finish_within)
    async with SmtpHook(smtp_conn_id="smtp_default") as hook:
        await hook.asend_email_smtp(to=to, from_email=from_email, subject=subject, html_content=body)
