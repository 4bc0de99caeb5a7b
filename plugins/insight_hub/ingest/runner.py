"""Load every feed (landed files, SQL tables, HTTP APIs) of one source entity; the unit of work of a source task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg

from insight_hub.contracts import ContractError
from insight_hub.ingest.extract import read_watermark, write_extract
from insight_hub.ingest.load import (
    BatchRejected,
    BatchResult,
    StageLost,
    Watermark,
    publish_batch,
    stage_batch,
    validate_batch,
)
from insight_hub.ingest.stage import StagingError
from insight_hub.quality.data_docs import DataDocs
from insight_hub.settings import Settings, get_settings
from insight_hub.sources import files
from insight_hub.sources.api import ApiSourceError, api_records
from insight_hub.sources.connections import get_connection
from insight_hub.sources.registry import ApiFeed, FileFeed, Mapping, Registry, SqlFeed
from insight_hub.sources.sql import SqlSourceError, sql_records
from insight_hub.warehouse.schema import bootstrap

log = logging.getLogger(__name__)


def _stage_one(
    summary: EntityLoadSummary,
    url: str,
    source: str,
    path: Path,
    mapping: Mapping,
    airflow_run_id: str | None,
    watermark: Watermark | None = None,
) -> None:
    summary.attempt(
        lambda: stage_batch(url, source, path, mapping, airflow_run_id=airflow_run_id, watermark=watermark),
        (StagingError, files.SourceFileError),
    )


def _stage_extract(
    summary: EntityLoadSummary,
    url: str,
    source: str,
    entity: str,
    feed: SqlFeed | ApiFeed,
    mapping: Mapping,
    settings: Settings,
    airflow_run_id: str | None,
) -> None:
    """Extract everything past the feed's watermark to one file and stage it; the watermark moves when
    that batch publishes."""
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
    watermark = Watermark(feed.feed_id, high) if high is not None else None
    _stage_one(summary, url, source, path, mapping, airflow_run_id, watermark)


class EntityNotConfigured(LookupError):
    """The sources file does not feed this entity: there is nothing to load."""


class EntityLoadFailed(RuntimeError):
    """At least one batch of the entity was rejected or could not be staged; `summary` has the rest."""

    def __init__(self, message: str, summary: EntityLoadSummary):
        super().__init__(message)
        self.summary = summary


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

    def attempt(
        self,
        step: Callable[[], BatchResult],
        expected: tuple[type[Exception], ...],
        *,
        log_warnings: bool = False,
    ) -> None:
        """Run one batch step. An expected failure is kept as an error and the entity's other batches go
        on; anything else propagates. Logs counts only (no customer values)."""
        try:
            result = step()
        except expected as exc:
            log.error("%s: %s", self.entity, exc)
            self.errors.append(str(exc))
            return
        log.info(
            "%s batch %s (%s): %s, read %d, loaded %d, quarantined %d",
            self.entity,
            result.batch_id,
            Path(result.source_file).name,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
        )
        if log_warnings:
            for warning in result.warnings:
                log.warning("%s batch %s: %s", self.entity, result.batch_id, warning)
        self.batches.append(result)

    def raise_for_errors(self, what: str) -> None:
        if self.errors:
            raise EntityLoadFailed(
                f"{self.entity}: {len(self.errors)} batch(es) {what}: " + " | ".join(self.errors), self
            )

    def as_dict(self) -> dict:
        """Counts only: safe for XCom and logs (no customer values)."""
        return {
            "source": self.source,
            "entity": self.entity,
            "files_found": self.files_found,
            "batches_staged": sum(b.status == "staged" for b in self.batches),
            "batches_validated": sum(b.status == "validated" for b in self.batches),
            "batches_published": sum(b.status == "published" for b in self.batches),
            "batches_skipped": sum(b.status == "skipped" for b in self.batches),
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "errors": self.errors,
        }


def stage_entity(
    url: str,
    source: str,
    entity: str,
    *,
    settings: Settings | None = None,
    airflow_run_id: str | None = None,
) -> EntityLoadSummary:
    """Stage each new file of every feed of the entity (files matching its pattern, SQL and API extracts);
    raise EntityLoadFailed after trying them all if any could not be staged."""
    settings = settings or get_settings()
    feeds = Registry(settings.sources_file).feeds(entity)
    if not feeds:
        raise EntityNotConfigured(f"{settings.sources_file} does not feed entity {entity!r}")
    summary = EntityLoadSummary(source, entity)
    for feed, mapping in feeds:
        try:
            if isinstance(feed, FileFeed):
                for path in files.discover(settings.landing_dir, feed.pattern):
                    summary.files_found += 1
                    _stage_one(summary, url, source, path, mapping, airflow_run_id)
            else:
                _stage_extract(summary, url, source, entity, feed, mapping, settings, airflow_run_id)
        except (files.SourceFileError, SqlSourceError, ApiSourceError) as exc:
            log.error("%s: %s", entity, exc)
            summary.errors.append(str(exc))
    summary.raise_for_errors("not staged")
    return summary


def _batches_in(url: str, entity: str, status: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap(conn)
        rows = conn.execute(
            "select batch_id from ops.load_batch where entity = %s and status = %s order by batch_id",
            (entity, status),
        ).fetchall()
    return [r[0] for r in rows]


def validate_entity(
    url: str, source: str, entity: str, *, settings: Settings | None = None
) -> EntityLoadSummary:
    """Validate every staged batch of the entity with its suite; raise EntityLoadFailed naming each
    rejected batch's failed expectations and counts."""
    settings = settings or get_settings()
    suite = settings.expectations_dir / f"{entity}.json"
    summary = EntityLoadSummary(source, entity)
    docs = DataDocs(settings.home) if settings.data_docs else None
    try:
        for batch_id in _batches_in(url, entity, "staged"):
            summary.attempt(
                lambda batch_id=batch_id: validate_batch(
                    url,
                    batch_id,
                    suite,
                    max_reject_share=settings.max_reject_share,
                    freshness=timedelta(hours=settings.freshness_hours),
                    volume_band=settings.volume_band,
                    docs=docs,
                ),
                (BatchRejected, StageLost),
                # Validation is where all of a batch's warnings are known: staging's notes and warn-level checks.
                log_warnings=True,
            )
    finally:
        if docs is not None:
            docs.build()
    summary.raise_for_errors("rejected")
    return summary


def publish_entity(url: str, source: str, entity: str) -> EntityLoadSummary:
    """Publish every validated batch of the entity, oldest first (a later batch supersedes an earlier)."""
    summary = EntityLoadSummary(source, entity)
    for batch_id in _batches_in(url, entity, "validated"):
        summary.attempt(lambda batch_id=batch_id: publish_batch(url, batch_id), (StageLost,))
    summary.raise_for_errors("not published")
    return summary


def load_entity(
    url: str,
    source: str,
    entity: str,
    *,
    settings: Settings | None = None,
    airflow_run_id: str | None = None,
) -> EntityLoadSummary:
    """Stage, validate and publish the entity in this process. Batches that stage go on even when another
    file of the entity fails; EntityLoadFailed at the end lists every batch not published."""
    settings = settings or get_settings()
    staged = _summary_of(
        lambda: stage_entity(url, source, entity, settings=settings, airflow_run_id=airflow_run_id)
    )
    validated = _summary_of(lambda: validate_entity(url, source, entity, settings=settings))
    published = _summary_of(lambda: publish_entity(url, source, entity))
    summary = EntityLoadSummary(
        source,
        entity,
        files_found=staged.files_found,
        batches=[b for b in staged.batches if b.status == "skipped"] + published.batches,
        errors=staged.errors + validated.errors + published.errors,
    )
    summary.raise_for_errors("not published")
    return summary


def _summary_of(step) -> EntityLoadSummary:
    try:
        return step()
    except EntityLoadFailed as exc:
        return exc.summary


def load_all_entities(url: str, *, settings: Settings | None = None) -> list[EntityLoadSummary]:
    """load_entity for every entity of the sources file, in its order, in this process (what the
    source DAGs do task by task); raise EntityLoadFailed at the first entity with a batch not published."""
    settings = settings or get_settings()
    summaries = []
    for source, cfg in Registry(settings.sources_file).sources.items():
        for entity in cfg.entities:
            summaries.append(load_entity(url, source, entity, settings=settings))
    return summaries
