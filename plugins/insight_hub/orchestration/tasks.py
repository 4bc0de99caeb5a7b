"""What the DAGs' tasks do, with Airflow's context turned into plain arguments."""

from __future__ import annotations


def load_entity_task(source: str, entity: str, run_id: str) -> dict:
    """Load every feed of one entity; the returned counts go to XCom (no customer values)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from insight_hub.ingest.runner import EntityNotConfigured, load_entity
    from insight_hub.settings import get_settings
    from insight_hub.sources.connections import get_connection

    settings = get_settings()
    url = get_connection(settings.warehouse_conn_id).postgres_url()
    try:
        summary = load_entity(url, source, entity, settings=settings, airflow_run_id=run_id)
    except EntityNotConfigured as exc:
        # Skipped, not failed: the entity's Asset is not updated, so nothing downstream sees new data.
        raise AirflowSkipException(str(exc)) from exc
    return summary.as_dict()


def prepare_warehouse_task() -> None:
    """Create what dbt's sources expect (idempotent): an entity never fed still has its empty raw table."""
    import psycopg

    from insight_hub.settings import get_settings
    from insight_hub.sources.connections import get_connection
    from insight_hub.warehouse.schema import ensure_all

    url = get_connection(get_settings().warehouse_conn_id).postgres_url()
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_all(conn)
