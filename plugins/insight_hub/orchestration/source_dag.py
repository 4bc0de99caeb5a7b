"""One factory for every source DAG: a load task per entity, each updating its raw Asset on success."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from insight_hub.orchestration.assets import raw_asset

DEFAULT_ARGS = {
    "owner": "insight-hub",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def build_source_dag(source: str, entities: list[str], schedule: str = "@daily"):
    @dag(
        dag_id=f"source_{source}",
        schedule=schedule,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["insight-hub", "source", source],
        doc_md=(
            f"Loads the **{source}** source: for each entity ({', '.join(entities)}), every landed file "
            "is staged, validated by its Great Expectations suite and published as one batch. "
            "Each entity's raw Asset is updated only when all its batches published."
        ),
    )
    def source_dag():
        for entity in entities:

            @task(task_id=f"load_{entity}", outlets=[raw_asset(entity)])
            def load(entity: str = entity, **context) -> dict:
                from insight_hub.orchestration.tasks import load_entity_task

                return load_entity_task(source, entity, context["run_id"])

            load()

    return source_dag()
