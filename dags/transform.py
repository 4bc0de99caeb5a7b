"""Transform: builds the customer-information hub with dbt (staging -> intermediate -> marts).

Runs whenever any raw entity Asset is updated; one `dbt build` of the project (cosmos' watcher mode)
builds every model and runs its tests, and a task per model, and per model's tests, reports what that
build did to it. Then the insight actions the new data calls for are raised (and cleared ones closed).
Updates the marts Asset when all that passes.
"""

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import AssetAny, dag, task
from cosmos import DbtTaskGroup

from insight_hub.orchestration.alerts import deadline_alert, with_failure_alerts
from insight_hub.orchestration.assets import MARTS_ASSET, all_raw_assets
from insight_hub.orchestration.cosmos_config import dbt_task_group_kwargs, run_producer_first
from insight_hub.settings import get_settings


@dag(
    schedule=AssetAny(*all_raw_assets()),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=with_failure_alerts({"owner": "insight-hub"}),
    deadline=deadline_alert(get_settings().transform_finish_within),
    tags=["insight-hub", "transform"],
    doc_md=__doc__,
)
def transform():
    @task
    def prepare_warehouse():
        from insight_hub.orchestration.tasks import prepare_warehouse_task

        prepare_warehouse_task()

    @task(retries=2)
    def sync_actions() -> dict:
        from insight_hub.orchestration.tasks import sync_actions_task

        return sync_actions_task()

    hub = DbtTaskGroup(group_id="hub", **dbt_task_group_kwargs())
    run_producer_first(hub)
    marts_published = EmptyOperator(task_id="marts_published", outlets=[MARTS_ASSET])

    prepare_warehouse() >> hub >> sync_actions() >> marts_published


transform()
