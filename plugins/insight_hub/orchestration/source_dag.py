"""One factory for every source DAG: a load task per entity, each updating its raw Asset on success."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from insight_hub.orchestration.alerts import deadline_alert, with_failure_alerts
from insight_hub.orchestration.assets import raw_asset
from insight_hub.settings import get_settings
from insight_hub.sources.registry import Registry

DEFAULT_ARGS = {
    "owner": "insight-hub",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}


def source_timing(source: str) -> tuple[str | timedelta, timedelta]:
    """The source's schedule and deadline from the sources file (read from disk only, no database).

    A source the file does not list keeps the defaults: daily, and the settings' deadline."""
    settings = get_settings()
    config = Registry(settings.sources_file).sources.get(source)
    if config is None:
        return "@daily", settings.source_finish_within
    return config.schedule, config.finish_within or settings.source_finish_within


def build_source_dag(source: str, entities: list[str]):
    schedule, finish_within = source_timing(source)

    @dag(
        dag_id=f"source_{source}",
        schedule=schedule,
        deadline=deadline_alert(finish_within),
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args=with_failure_alerts(DEFAULT_ARGS),
        tags=["insight-hub", "source", source],
        doc_md=(
            f"Loads the **{source}** source. For each entity ({', '.join(entities)}): `stage_<entity>` "
            "copies every new file (or SQL/API extract) into stage tables and types it; "
            "`validate_<entity>` runs the entity's Great Expectations suite, quarantines failing rows "
            "and fails on a rejected batch, naming the failed expectations and counts; "
            "`publish_<entity>` replaces each batch's rows in `raw` and updates the entity's Asset. "
            "`check_freshness` then fails, alerting the owners, when a table of the source has stopped "
            "arriving (last loaded longer ago than its dbt source freshness `error_after`)."
        ),
    )
    def source_dag():
        published = []
        for entity in entities:

            @task(task_id=f"stage_{entity}")
            def stage(entity: str = entity, **context) -> dict:
                from insight_hub.orchestration.tasks import stage_entity_task

                return stage_entity_task(source, entity, context["run_id"])

            @task(task_id=f"validate_{entity}")
            def validate(entity: str = entity) -> dict:
                from insight_hub.orchestration.tasks import validate_entity_task

                return validate_entity_task(source, entity)

            @task(task_id=f"publish_{entity}", outlets=[raw_asset(entity)])
            def publish(entity: str = entity) -> dict:
                from insight_hub.orchestration.tasks import publish_entity_task

                return publish_entity_task(source, entity)

            published.append(publish())
            stage() >> validate() >> published[-1]

        # Runs when the loads succeeded or found nothing new (skipped): a day with no new export is exactly
        # when staleness shows. After a failed load it does not run, so the run still ends failed (a leaf
        # that ran anyway would mark it successful) and the failure's own alert says what went wrong.
        @task(task_id="check_freshness", trigger_rule="none_failed")
        def check_freshness() -> dict:
            from insight_hub.orchestration.tasks import check_source_freshness_task

            return check_source_freshness_task(source)

        published >> check_freshness()

    return source_dag()
