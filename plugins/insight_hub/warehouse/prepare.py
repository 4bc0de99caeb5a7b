"""What dbt needs in the warehouse before a build, in one idempotent step."""

from __future__ import annotations

import psycopg

from insight_hub.settings import Settings


def prepare_for_dbt(url: str, settings: Settings) -> None:
    """Every source table dbt reads exists (an entity never fed still has its empty raw table), the roles
    and the PII key's pads are in place, the charter's current promises are in ops.charter_promise, the team leads' queues in ops.owner_queue,
    the theme taxonomy's keywords in ops.theme_keyword, the insight-action rules in ops.action_rule, and every new comment's lexicon sentiment in
    ops.text_sentiment; an incremental table an earlier version of its model wrote is dropped, so the build
    creates it in full (insight_hub.warehouse.upgrade)."""
    from insight_hub.charter import publish_charter
    from insight_hub.insight.actions import publish_rules
    from insight_hub.insight.scopes import publish_scopes
    from insight_hub.insight.sentiment import score_new_texts
    from insight_hub.insight.themes import publish_taxonomy
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
    from insight_hub.warehouse.access import ensure_access
    from insight_hub.warehouse.schema import ensure_all
    from insight_hub.warehouse.upgrade import drop_outdated_incremental_tables

    with psycopg.connect(url, autocommit=True) as conn:
        ensure_all(conn)
        ensure_access(conn, settings.pii_key_bytes())
        publish_charter(conn, settings.charter_file)
        publish_scopes(conn, settings.extracts_file)
        publish_taxonomy(conn, settings.themes_file)
        publish_rules(conn, settings.actions_file, settings.charter_file)
        score_new_texts(conn)
        drop_outdated_incremental_tables(conn, MANIFEST_PATH)
