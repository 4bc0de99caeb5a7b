"""Load every landed file of one source entity; the unit of work of a source DAG task."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from insight_hub.ingest.load import BatchRejected, BatchResult, load_file
from insight_hub.ingest.stage import StagingError
from insight_hub.settings import Settings, get_settings
from insight_hub.sources import files
from insight_hub.sources.registry import Registry

log = logging.getLogger(__name__)


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
    work = [
        (path, mapping)
        for spec, mapping in feeds
        for path in files.discover(settings.landing_dir, spec.pattern)
    ]
    summary = EntityLoadSummary(source, entity, files_found=len(work))
    for path, mapping in work:
        try:
            result = load_file(
                url,
                source,
                path,
                mapping,
                suite,
                max_reject_share=settings.max_reject_share,
                airflow_run_id=airflow_run_id,
            )
        except (BatchRejected, StagingError, files.SourceFileError) as exc:
            log.error("%s: %s", entity, exc)
            summary.errors.append(str(exc))
            continue
        log.info(
            "%s %s: %s, read %d, loaded %d, quarantined %d",
            entity,
            path.name,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
        )
        summary.batches.append(result)
    if summary.errors:
        raise EntityLoadFailed(
            f"{entity}: {len(summary.errors)} batch(es) not published: " + " | ".join(summary.errors)
        )
    return summary
