"""Load every feed (landed files, SQL tables, HTTP APIs) of one source entity; the unit of work of a source task."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from insight_hub.contracts import ContractError
from insight_hub.ingest.extract import read_watermark, save_watermark, write_extract
from insight_hub.ingest.load import BatchRejected, BatchResult, load_file
from insight_hub.ingest.stage import StagingError
from insight_hub.settings import Settings, get_settings
from insight_hub.sources import files
from insight_hub.sources.api import ApiSourceError, api_records
from insight_hub.sources.connections import get_connection
from insight_hub.sources.registry import ApiFeed, FileFeed, Mapping, Registry, SqlFeed
from insight_hub.sources.sql import SqlSourceError, sql_records
from insight_hub.warehouse.schema import bootstrap

log = logging.getLogger(__name__)


def _load_one(
    summary: EntityLoadSummary,
    url: str,
    source: str,
    path: Path,
    mapping: Mapping,
    suite: Path,
    settings: Settings,
    airflow_run_id: str | None,
    after_publish=None,
) -> BatchResult | None:
    try:
        result = load_file(
            url,
            source,
            path,
            mapping,
            suite,
            max_reject_share=settings.max_reject_share,
            airflow_run_id=airflow_run_id,
            after_publish=after_publish,
        )
    except (BatchRejected, StagingError, files.SourceFileError) as exc:
        log.error("%s: %s", mapping.entity, exc)
        summary.errors.append(str(exc))
        return None
    log.info(
        "%s %s: %s, read %d, loaded %d, quarantined %d",
        mapping.entity,
        path.name,
        result.status,
        result.rows_read,
        result.rows_loaded,
        result.rows_quarantined,
    )
    summary.batches.append(result)
    return result


def _load_extract(
    summary: EntityLoadSummary,
    url: str,
    source: str,
    entity: str,
    feed: SqlFeed | ApiFeed,
    mapping: Mapping,
    suite: Path,
    settings: Settings,
    airflow_run_id: str | None,
) -> None:
    """Extract everything past the feed's watermark to one file, load it, and move the watermark with it."""
    if mapping.format != "jsonl":
        raise ContractError(
            f"mapping for {feed.feed_id} must use format: jsonl (records are extracted as JSON)"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap(conn)
        since = read_watermark(conn, feed.feed_id)
    conn_info = get_connection(feed.conn_id)
    if isinstance(feed, SqlFeed):
        records, watermark_field = sql_records(feed, conn_info, since), feed.watermark
    else:
        records, watermark_field = api_records(feed, conn_info, since), feed.watermark_field
    path, rows, high = write_extract(
        records, settings.home / "extracts" / entity, feed.feed_id, watermark_field
    )
    if path is None:
        log.info("%s %s: nothing new since %s", entity, feed.feed_id, since)
        return
    summary.files_found += 1

    def move_watermark(conn: psycopg.Connection) -> None:
        if high is not None:
            save_watermark(conn, feed.feed_id, entity, high)

    _load_one(
        summary, url, source, path, mapping, suite, settings, airflow_run_id, after_publish=move_watermark
    )


class EntityNotConfigured(LookupError):
    """The sources file does not feed this entity: there is nothing to load."""


class EntityLoadFailed(RuntimeError):
    """At least one batch of the entity was rejected or could not be staged."""


@dataclass
class EntityLoadSummary:
    source: str
    entity: str
    files_found: int = 0
    batches: list[BatchResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(b.rows_read for b in self.batches)

    @property
    def rows_loaded(self) -> int:
        return sum(b.rows_loaded for b in self.batches)

    @property
    def rows_quarantined(self) -> int:
        return sum(b.rows_quarantined for b in self.batches)

    def as_dict(self) -> dict:
        """Counts only: safe for XCom and logs (no customer values)."""
        return {
            "source": self.source,
            "entity": self.entity,
            "files_found": self.files_found,
            "batches_published": sum(b.status == "published" for b in self.batches),
            "batches_skipped": sum(b.status == "skipped" for b in self.batches),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "errors": self.errors,
        }


def load_entity(
    url: str,
    source: str,
    entity: str,
    *,
    settings: Settings | None = None,
    airflow_run_id: str | None = None,
) -> EntityLoadSummary:
    """Load each file matching the entity's pattern once; raise EntityLoadFailed after trying them all."""
    settings = settings or get_settings()
    registry = Registry(settings.sources_file)
    feeds = registry.feeds(entity)
    if not feeds:
        raise EntityNotConfigured(f"{settings.sources_file} does not feed entity {entity!r}")
    suite = settings.expectations_dir / f"{entity}.json"
    summary = EntityLoadSummary(source, entity)
    for feed, mapping in feeds:
        try:
            if isinstance(feed, FileFeed):
                for path in files.discover(settings.landing_dir, feed.pattern):
                    summary.files_found += 1
                    _load_one(summary, url, source, path, mapping, suite, settings, airflow_run_id)
            else:
                _load_extract(summary, url, source, entity, feed, mapping, suite, settings, airflow_run_id)
        except (files.SourceFileError, SqlSourceError, ApiSourceError) as exc:
            log.error("%s: %s", entity, exc)
            summary.errors.append(str(exc))
    if summary.errors:
        raise EntityLoadFailed(
            f"{entity}: {len(summary.errors)} batch(es) not published: " + " | ".join(summary.errors)
        )
    return summary
