"""What the DAGs' tasks do, with Airflow's context turned into plain arguments."""

from __future__ import annotations


def _warehouse() -> tuple:
    from insight_hub.settings import get_settings
    from insight_hub.sources.connections import get_connection

    settings = get_settings()
    return settings, get_connection(settings.warehouse_conn_id).postgres_url()


def stage_entity_task(source: str, entity: str, run_id: str) -> dict:
    """Stage every new file of one entity; the returned counts go to XCom (no customer values)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from insight_hub.ingest.runner import EntityNotConfigured, stage_entity

    settings, url = _warehouse()
    try:
        summary = stage_entity(url, source, entity, settings=settings, airflow_run_id=run_id)
    except EntityNotConfigured as exc:
        # Skipped, not failed: validate and publish skip too, so the entity's Asset is not updated.
        raise AirflowSkipException(str(exc)) from exc
    return summary.as_dict()


def validate_entity_task(source: str, entity: str) -> dict:
    """Validate the entity's staged batches. A rejection fails the task without retries (the same batch
    fails the same way), its message listing the failed expectations and counts."""
    from airflow.sdk.exceptions import AirflowFailException

    from insight_hub.ingest.runner import EntityLoadFailed, validate_entity

    settings, url = _warehouse()
    try:
        return validate_entity(url, source, entity, settings=settings).as_dict()
    except EntityLoadFailed as exc:
        raise AirflowFailException(str(exc)) from exc


def publish_entity_task(source: str, entity: str) -> dict:
    """Publish the entity's validated batches; the task's outlet Asset is updated when it succeeds."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from insight_hub.ingest.runner import EntityLoadFailed, publish_entity

    _, url = _warehouse()
    try:
        summary = publish_entity(url, source, entity)
    except EntityLoadFailed as exc:
        # Lost stage tables: the batch is marked failed and restages next run; a retry would find nothing.
        raise AirflowFailException(str(exc)) from exc
    if not any(b.status == "published" for b in summary.batches):
        # Nothing new: skipped, so the Asset is not updated and nothing downstream runs for it.
        raise AirflowSkipException(f"{entity}: no new batch to publish")
    return summary.as_dict()


def check_source_freshness_task(source: str) -> dict:
    """Fail, so that the failure alert reaches the pipeline's owners, when one of the source's tables has
    stopped arriving: last loaded longer ago than its error threshold (the limits `dbt source freshness`
    uses, from the dbt manifest); with INSIGHT_HUB_FAIL_ON_STALE_SOURCE off it only logs a warning.
    Returns each table's freshness status for XCom."""
    import logging

    import psycopg
    from airflow.sdk.exceptions import AirflowFailException

    from insight_hub.insight.readiness import check_readiness
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH

    settings, url = _warehouse()
    with psycopg.connect(url) as conn:
        readiness = check_readiness(conn, MANIFEST_PATH)
    stale = readiness.stale(source)
    if stale:
        message = f"{source} is stale: " + "; ".join(f.describe() for f in stale)
        if settings.fail_on_stale_source:
            raise AirflowFailException(message)
        logging.getLogger(__name__).warning(message)
    return {f.table: f.status for f in readiness.freshness if f.source == source}


def prepare_warehouse_task() -> None:
    """Create what dbt's sources expect (idempotent): see insight_hub.warehouse.prepare."""
    from insight_hub.warehouse.prepare import prepare_for_dbt

    settings, url = _warehouse()
    prepare_for_dbt(url, settings)


def sync_actions_task() -> dict:
    """Raise the new insight actions the build's signals call for, apply the CRM's write-back, and close
    the actions whose signal cleared (see insight_hub.insight.actions). Returns the counts for XCom."""
    import dataclasses

    import psycopg

    from insight_hub.insight.actions import sync_actions

    _, url = _warehouse()
    with psycopg.connect(url) as conn:
        return dataclasses.asdict(sync_actions(conn))


def deliver_extracts_task(run_id: str) -> dict:
    """Every manager's extract, or a notice when the data is not ready; e-mailed through smtp_default when
    INSIGHT_HUB_SEND_EXTRACTS is on, always written to <home>/outbox/. Returns who was sent what (owner
    ids and counts, no addresses) for XCom."""
    from insight_hub.insight.deliver import deliver_extracts, smtp_sender
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH

    settings, url = _warehouse()
    summary = deliver_extracts(
        url,
        MANIFEST_PATH,
        settings.home / "outbox",
        sender_address=settings.alert_from,
        send=smtp_sender() if settings.send_extracts else None,
        airflow_run_id=run_id,
        workers=settings.extract_workers,
    )
    return summary.as_dict()
