"""Is the marts' data fit to send to managers? Fresh, and every source's latest batch passed its checks.

Freshness is judged by the thresholds declared on the dbt sources (`loaded_at_field` and
`freshness.warn_after` / `error_after` in dbt_project/models/staging/sources.yml), read from the dbt
manifest, so the extracts and `dbt source freshness` hold a source to the same limit. A source past its
error threshold, or whose latest batch was rejected or failed, withholds the extracts: managers get a
short notice naming it instead.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    table: str
    status: str  # pass, warn or error
    last_loaded_at: datetime | None
    warn_after: timedelta | None
    error_after: timedelta | None

    def describe(self) -> str:
        if self.last_loaded_at is None:
            return f"{self.source}.{self.table} has never been loaded"
        limit = self.error_after if self.status == "error" else self.warn_after
        return f"{self.source}.{self.table} last loaded {self.last_loaded_at:%Y-%m-%d %H:%M} UTC" + (
            f", later than its limit of {limit}" if self.status != "pass" and limit else ""
        )


@dataclass(frozen=True)
class FailedBatch:
    source: str
    entity: str
    status: str
    source_file: str | None
    finished_at: datetime | None
    message: str

    def describe(self) -> str:
        where = f" ({self.source_file})" if self.source_file else ""
        return f"{self.source}.{self.entity}: latest batch{where} {self.status}: {self.message}"


@dataclass(frozen=True)
class Readiness:
    checked_at: datetime
    freshness: list[SourceFreshness] = field(default_factory=list)
    failed_batches: list[FailedBatch] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        late = [f.describe() for f in self.freshness if f.status == "error"]
        return late + [b.describe() for b in self.failed_batches]

    def stale(self, source: str | None = None) -> list[SourceFreshness]:
        """The tables (of `source`, or of every source) that were loaded before but not within their error
        threshold. A table never loaded is not stale (nothing has stopped arriving); the extracts still
        wait for it."""
        return [
            f
            for f in self.freshness
            if source in (None, f.source) and f.status == "error" and f.last_loaded_at is not None
        ]

    def warnings(self) -> list[str]:
        return [f.describe() for f in self.freshness if f.status == "warn"]

    def as_dict(self) -> dict:
        """For XCom: names, statuses and times only."""
        return json.loads(json.dumps(asdict(self) | {"ready": self.ready}, default=str))


def _threshold(rule: dict | None) -> timedelta | None:
    if not rule or rule.get("count") is None or rule.get("period") is None:
        return None
    return timedelta(seconds=rule["count"] * PERIOD_SECONDS[rule["period"]])


def declared_freshness(
    manifest_path: Path,
) -> list[tuple[str, str, str, str, timedelta | None, timedelta | None]]:
    """(source, table, schema, loaded_at_field, warn_after, error_after) of every dbt source with a
    freshness threshold."""
    try:
        manifest = json.loads(manifest_path.read_text())
    except OSError as exc:
        raise FileNotFoundError(
            f"dbt manifest {manifest_path} is missing: run `make` (dbt parse) first"
        ) from exc
    out = []
    for node in manifest["sources"].values():
        freshness = node.get("freshness") or {}
        warn, error = _threshold(freshness.get("warn_after")), _threshold(freshness.get("error_after"))
        if (warn or error) and node.get("loaded_at_field"):
            out.append(
                (node["source_name"], node["name"], node["schema"], node["loaded_at_field"], warn, error)
            )
    return sorted(out)


def check_readiness(conn: psycopg.Connection, manifest_path: Path, now: datetime | None = None) -> Readiness:
    now = now or datetime.now(UTC)
    freshness = []
    for source, table, schema, loaded_at, warn, error in declared_freshness(manifest_path):
        query = sql.SQL("select max({}) from {}.{}").format(
            sql.Identifier(loaded_at), sql.Identifier(schema), sql.Identifier(table)
        )
        last = conn.execute(query).fetchone()[0]
        age = now - last if last else None
        if age is None or (error and age > error):
            status = "error"
        elif warn and age > warn:
            status = "warn"
        else:
            status = "pass"
        freshness.append(SourceFreshness(source, table, status, last, warn, error))
    rows = conn.execute(
        """select source, entity, status, source_file, finished_at, coalesce(message, '')
           from (select distinct on (source, entity) *
                 from ops.load_batch
                 where status in ('published', 'rejected', 'failed')
                 order by source, entity, batch_id desc) as latest
           where status <> 'published'
           order by source, entity"""
    ).fetchall()
    failed = [FailedBatch(*row[:5], message=row[5].splitlines()[0] if row[5] else "") for row in rows]
    return Readiness(checked_at=now, freshness=freshness, failed_batches=failed)
