"""Insight: every manager's weekly e-mail, checked for after each successful build of the marts.

Scheduled on the marts Asset, which the transform updates only when every model and test passed. The
extract goes out only when the data is also fresh and every source's latest batch passed its checks;
otherwise each manager gets a short notice naming the late or failed source. Each manager gets one
extract per week (the latest full one): a retry, or a later build of the same week, sends only the
e-mails not yet sent for it.
"""

import pendulum
from airflow.sdk import dag, task

from insight_hub.orchestration.alerts import with_failure_alerts
from insight_hub.orchestration.assets import MARTS_ASSET


@dag(
    schedule=[MARTS_ASSET],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=with_failure_alerts(
        {
            "owner": "insight-hub",
            "retries": 2,
            "retry_delay": pendulum.duration(minutes=1),
            "retry_exponential_backoff": True,
        }
    ),
    tags=["insight-hub", "insight"],
    doc_md=__doc__,
)
def insight():
    @task
    def deliver_extracts(run_id=None):
        from insight_hub.orchestration.tasks import deliver_extracts_task

        return deliver_extracts_task(run_id)

    deliver_extracts()


insight()
