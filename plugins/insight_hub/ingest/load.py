"""Load one source file as one batch, in three steps that may run in three processes.

    stage     COPY the file into the batch's stage tables and type it   running   -> staged
    validate  run the entity's expectation suite, collect quarantine    staged    -> validated | rejected
    publish   replace the batch's rows in raw and quarantine            validated -> published

A batch is identified by the file's content checksum. Loading the same content
again (a retry, a rerun, a renamed copy) finds the batch and changes nothing.
The steps hand over through `ops.load_batch` and the batch's stage tables; each
takes an advisory lock and re-reads the batch's status first, so a retried or
concurrent step never does the same work twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from insight_hub.contracts import load_contract
from insight_hub.ingest import publish as pub
from insight_hub.ingest.expressions import NOT_ISO
from insight_hub.ingest.stage import StageTables, StagingError, parse, stage_file
from insight_hub.quality.data_docs import DataDocs
from insight_hub.quality.gx_runner import Validation, record_results, validate_table
from insight_hub.quality.parameters import DEFAULT_FRESHNESS, DEFAULT_VOLUME_BAND, suite_parameters
from insight_hub.sources import files
from insight_hub.sources.registry import Mapping
from insight_hub.warehouse import sqlalchemy_url
from insight_hub.warehouse.schema import bootstrap, ensure_all, ensure_entity_tables

log = logging.getLogger(__name__)

# Statuses of a batch whose content needs no new attempt.
IN_HAND = ("staged", "validated", "published")


class BatchRejected(RuntimeError):
    """A batch failed a batch-level check; nothing from it was published."""


class StageLost(RuntimeError):
    """A batch's stage tables no longer hold what was staged (the warehouse restarted since)."""


@dataclass
class BatchResult:
    entity: str
    source_file: str
    batch_id: int | None
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Watermark:
    """Where an extract's feed stands once its batch is published."""

    feed_id: str
    value: str


def load_file(
    url: str,
    source: str,
    path: Path,
    mapping: Mapping,
    suite_path: Path,
    *,
    max_reject_share: float = 0.1,
    airflow_run_id: str | None = None,
    watermark: Watermark | None = None,
) -> BatchResult:
    """All three steps for one file in this process (the CLI, tests and benchmarks; Airflow runs them as tasks)."""
    staged = stage_batch(url, source, path, mapping, airflow_run_id=airflow_run_id, watermark=watermark)
    if staged.status == "skipped":
        return staged
    validate_batch(url, staged.batch_id, suite_path, max_reject_share=max_reject_share)
    return publish_batch(url, staged.batch_id)


# --- stage -------------------------------------------------------------------------------------------


def stage_batch(
    url: str,
    source: str,
    path: Path,
    mapping: Mapping,
    *,
    airflow_run_id: str | None = None,
    watermark: Watermark | None = None,
) -> BatchResult:
    """Stage and type `path`. A file whose content is already staged, validated or published is not staged
    again: the result names that batch (status `skipped` once published)."""
    entity = mapping.entity
    batch_key = files.checksum(path)
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap(conn)
        ensure_entity_tables(conn, mapping.contract)
        _lock(conn, f"{entity}:{batch_key}")
        found = conn.execute(
            """select batch_id, status from ops.load_batch
               where entity = %s and batch_key = %s and status = any(%s) order by batch_id desc limit 1""",
            (entity, batch_key, list(IN_HAND)),
        ).fetchone()
        if found:
            batch_id, status = found
            if status == "published":
                return BatchResult(
                    entity, str(path), batch_id, "skipped", message="content already published"
                )
            return _result(conn, batch_id)
        _close_abandoned(conn, entity, batch_key)
        batch_id = conn.execute(
            """insert into ops.load_batch (source, entity, batch_key, source_file, status, airflow_run_id,
                                           watermark_feed, watermark_value)
               values (%s, %s, %s, %s, 'running', %s, %s, %s) returning batch_id""",
            (
                source,
                entity,
                batch_key,
                str(path),
                airflow_run_id,
                watermark and watermark.feed_id,
                watermark and watermark.value,
            ),
        ).fetchone()[0]
        tables = StageTables.for_batch(batch_id)
        try:
            staged_columns = stage_file(conn, tables, path, mapping)
            absent = parse(conn, tables, mapping, staged_columns)
            rows_read = _count(conn, tables.incoming)
            incompatible = _incompatible_columns(conn, tables, mapping)
        except Exception as exc:
            message = str(exc) if isinstance(exc, StagingError) else f"{type(exc).__name__}: {str(exc)[:500]}"
            _finish(conn, batch_id, "failed", message=message)
            tables.drop_all(conn)
            raise
        unmapped, notes = _drift(mapping, staged_columns, absent)
        conn.execute(
            """update ops.load_batch set status = 'staged', rows_read = %s, source_columns = %s,
                      unmapped_columns = %s, warnings = %s, problems = %s where batch_id = %s""",
            (rows_read, staged_columns, unmapped, notes, incompatible, batch_id),
        )
        return _result(conn, batch_id)


def _drift(mapping: Mapping, staged_columns: list[str], absent: list[str]) -> tuple[list[str], list[str]]:
    """Schema drift of a staged export: the columns the mapping does not use, and notes for the reader."""
    used = {c for m in mapping.column_maps().values() for c in m.export_columns()}
    unmapped = [c for c in staged_columns if c not in used]
    notes = [f"mapped column {c!r} is absent from the export; loaded as null" for c in absent]
    if unmapped:
        notes.append(f"export columns not in the mapping, kept in raw._extra: {', '.join(unmapped)}")
    return unmapped, notes


def _incompatible_columns(conn: psycopg.Connection, tables: StageTables, mapping: Mapping) -> list[str]:
    """Typed columns where not one value parses: the export changed type, so reject rather than quarantine all."""
    typed = [c for c in mapping.contract.columns if c.type != "text" and c.name in mapping.columns]
    if not typed:
        return []
    # One scan counts, per column, the values present and the values that failed to parse (for dates:
    # also those not written the ISO way, which PostgreSQL might have read).
    counts = sql.SQL(", ").join(
        sql.SQL("count({c}), count(*) filter (where {r} && _errors)").format(
            c=sql.Identifier(col.name),
            r=sql.Literal([f"{col.name}: not a valid {col.type}", NOT_ISO.format(col.name)]),
        )
        for col in typed
    )
    row = conn.execute(sql.SQL("select {} from {}").format(counts, tables.checked)).fetchone()
    out = []
    for i, col in enumerate(typed):
        present, failed = row[2 * i], row[2 * i + 1]
        if failed > 1 and failed == present:
            out.append(
                f"column {col.name}: none of its {present} values is a valid {col.type} (incompatible type"
                + (
                    "; for dates written another way than YYYY-MM-DD, give the column a format)"
                    if col.type in ("date", "timestamptz")
                    else ")"
                )
            )
    return out


# --- validate ----------------------------------------------------------------------------------------


@dataclass
class CheckedBatch:
    """A validated batch's figures, before the decision to publish or reject it."""

    rows_read: int
    rows_bad: int
    validation: Validation
    staging_problems: list[str]
    bad_rows_by_reason: list[tuple[str, int]]
    notes: list[str] = field(default_factory=list)

    def problems(self, max_reject_share: float) -> list[str]:
        """Why the batch must be rejected (expectation names and counts, never row values); empty if fine."""
        out = [
            f"{o.name} failed: {o.reason} (observed {o.observed_value})"
            for o in self.validation.batch_failures
        ]
        out += self.staging_problems
        if self.rows_read and self.rows_bad / self.rows_read > max_reject_share:
            top = ", ".join(f"{reason}: {n}" for reason, n in self.bad_rows_by_reason)
            out.append(
                f"{self.rows_bad} of {self.rows_read} rows failed row checks, above the "
                f"{max_reject_share:.0%} limit ({top})"
            )
        return out

    def warnings(self) -> list[str]:
        return self.notes + [
            f"{o.name}: {o.unexpected_count or o.observed_value} (warn)" for o in self.validation.warnings
        ]


def validate_batch(
    url: str,
    batch_id: int,
    suite_path: Path,
    *,
    max_reject_share: float = 0.1,
    freshness: timedelta = DEFAULT_FRESHNESS,
    volume_band: float = DEFAULT_VOLUME_BAND,
    docs: DataDocs | None = None,
) -> BatchResult:
    """Validate a staged batch: store every expectation's outcome, collect the rows to quarantine, and
    mark it validated, or rejected (raising BatchRejected with the failed expectations and counts).
    With `docs`, the result is also stored for the Data Docs site (rendered by `docs.build()`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        _lock(conn, f"batch:{batch_id}")
        entity, status, rows_read, staging_problems = conn.execute(
            "select entity, status, rows_read, problems from ops.load_batch where batch_id = %s", (batch_id,)
        ).fetchone()
        if status != "staged":
            return _result(conn, batch_id)
        tables = StageTables.for_batch(batch_id)
        _check_stage_intact(conn, tables, batch_id, rows_read)
        # Referential expectations read other entities' raw tables: make sure they exist.
        ensure_all(conn)
        parameters = suite_parameters(conn, entity, batch_id, volume_band=volume_band, freshness=freshness)
        checked = _check(conn, url, tables, rows_read, suite_path, staging_problems or [], parameters)
        record_results(conn, batch_id, entity, checked.validation)
        if docs is not None:
            docs.add(suite_path, checked.validation, f"{entity}-batch-{batch_id}")
        problems = checked.problems(max_reject_share)
        if problems:
            message = "batch rejected: " + "; ".join(problems)
            _finish(conn, batch_id, "rejected", rows_read, None, checked.rows_bad, message)
            tables.drop_all(conn)
            source_file = conn.execute(
                "select source_file from ops.load_batch where batch_id = %s", (batch_id,)
            ).fetchone()[0]
            raise BatchRejected(f"{Path(source_file).name}: {message}")
        conn.execute(
            """update ops.load_batch set status = 'validated', rows_quarantined = %s,
                      warnings = coalesce(warnings, '{}') || %s::text[] where batch_id = %s""",
            (checked.rows_bad, checked.warnings(), batch_id),
        )
        return _result(conn, batch_id)


def _check(
    conn: psycopg.Connection,
    url: str,
    tables: StageTables,
    rows_read: int,
    suite_path: Path,
    staging_problems: list[str],
    parameters: dict,
) -> CheckedBatch:
    validation = validate_table(
        sqlalchemy_url(url),
        "stage",
        tables.typed_table_name,
        suite_path,
        row_count=_count(conn, tables.typed),
        parameters=parameters,
    )
    pub.collect_quarantine(conn, tables, validation.row_failures)
    by_reason = conn.execute(
        sql.SQL("select reason, count(*) from {} group by reason order by 2 desc, 1 limit 5").format(
            tables.quarantine
        )
    ).fetchall()
    return CheckedBatch(
        rows_read, pub.count_quarantined(conn, tables), validation, staging_problems, by_reason
    )


def check_file(
    conn: psycopg.Connection, url: str, tables: StageTables, path: Path, mapping: Mapping, suite_path: Path
) -> CheckedBatch:
    """Stage, type and validate `path` into `tables` without recording a batch (the mapping preview)."""
    staged_columns = stage_file(conn, tables, path, mapping)
    absent = parse(conn, tables, mapping, staged_columns)
    # Held against the warehouse's real history, as a load would be.
    parameters = suite_parameters(
        conn, mapping.entity, None, volume_band=DEFAULT_VOLUME_BAND, freshness=DEFAULT_FRESHNESS
    )
    checked = _check(
        conn,
        url,
        tables,
        _count(conn, tables.incoming),
        suite_path,
        _incompatible_columns(conn, tables, mapping),
        parameters,
    )
    checked.notes = _drift(mapping, staged_columns, absent)[1]
    return checked


# --- publish -----------------------------------------------------------------------------------------


def publish_batch(url: str, batch_id: int) -> BatchResult:
    """Publish a validated batch in one transaction: its rows in raw, its bad rows in quarantine, the
    audit row, and the watermark of the extract it came from, all or nothing."""
    with psycopg.connect(url, autocommit=True) as conn:
        _lock(conn, f"batch:{batch_id}")
        row = conn.execute(
            """select entity, status, rows_read, batch_key, source_file, unmapped_columns, watermark_feed,
                      watermark_value from ops.load_batch where batch_id = %s""",
            (batch_id,),
        ).fetchone()
        entity, status, rows_read, batch_key, source_file, unmapped, feed_id, feed_value = row
        if status == "published":
            return BatchResult(
                entity, source_file, batch_id, "skipped", message="published by another attempt"
            )
        if status != "validated":
            return _result(conn, batch_id)
        tables = StageTables.for_batch(batch_id)
        _check_stage_intact(conn, tables, batch_id, rows_read)
        contract = load_contract(entity)
        with conn.transaction():
            pub.find_repeated_keys(conn, tables, contract, batch_key)
            loaded, quarantined = pub.publish(
                conn, tables, contract, batch_id, batch_key, source_file, unmapped or []
            )
            conflicts = pub.log_key_conflicts(conn, tables, contract, batch_key)
            conflict_note = (
                [
                    f"{conflicts} record(s) replace an earlier load of their key with other content (ops.key_conflict)"
                ]
                if conflicts
                else []
            )
            if feed_id is not None:
                from insight_hub.ingest.extract import save_watermark

                save_watermark(conn, feed_id, entity, feed_value)
            conn.execute(
                """update ops.load_batch set status = 'published', rows_loaded = %s, rows_quarantined = %s,
                          warnings = coalesce(warnings, '{}') || %s::text[],
                          message = nullif(array_to_string(coalesce(warnings, '{}') || %s::text[], '; '), ''),
                          finished_at = clock_timestamp()
                   where batch_id = %s""",
                (loaded, quarantined, conflict_note, conflict_note, batch_id),
            )
        tables.drop_all(conn)
        return _result(conn, batch_id)


# --- shared ------------------------------------------------------------------------------------------


def _lock(conn: psycopg.Connection, key: str) -> None:
    """A session-level advisory lock, released when the step's connection closes (or its process dies)."""
    conn.execute("select pg_advisory_lock(hashtextextended(%s, 0))", (f"insight_hub:{key}",))


def _count(conn: psycopg.Connection, table: sql.Composable) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(table)).fetchone()[0]


def _check_stage_intact(conn: psycopg.Connection, tables: StageTables, batch_id: int, rows_read: int) -> None:
    """Stage tables are unlogged (fast, no WAL); a warehouse crash empties them. Never validate or publish
    what is left: fail the batch so the next stage step stages the file again."""
    try:
        intact = _count(conn, tables.incoming) == rows_read
    except psycopg.errors.UndefinedTable:
        intact = False
    if not intact:
        message = (
            "stage tables lost since staging (warehouse restarted?); the next load stages the file again"
        )
        _finish(conn, batch_id, "failed", message=message)
        tables.drop_all(conn)
        raise StageLost(f"batch {batch_id}: {message}")


def _result(conn: psycopg.Connection, batch_id: int) -> BatchResult:
    entity, source_file, status, read, loaded, quarantined, message, warnings = conn.execute(
        """select entity, source_file, status, rows_read, rows_loaded, rows_quarantined, message, warnings
           from ops.load_batch where batch_id = %s""",
        (batch_id,),
    ).fetchone()
    return BatchResult(
        entity,
        source_file,
        batch_id,
        status,
        read or 0,
        loaded or 0,
        quarantined or 0,
        message or "",
        warnings or [],
    )


def _close_abandoned(conn: psycopg.Connection, entity: str, batch_key: str) -> None:
    """Attempts still 'running' while we hold the batch's lock died mid-way: mark them and drop their scratch."""
    dead = conn.execute(
        """update ops.load_batch set status = 'failed', finished_at = clock_timestamp(),
                  message = 'attempt ended without finishing (process killed or connection lost)'
           where entity = %s and batch_key = %s and status = 'running' returning batch_id""",
        (entity, batch_key),
    ).fetchall()
    for (batch_id,) in dead:
        StageTables.for_batch(batch_id).drop_all(conn)


def _finish(
    conn: psycopg.Connection,
    batch_id: int,
    status: str,
    rows_read: int | None = None,
    rows_loaded: int | None = None,
    rows_quarantined: int | None = None,
    message: str | None = None,
) -> None:
    conn.execute(
        """update ops.load_batch set status = %s, rows_read = coalesce(%s, rows_read), rows_loaded = %s,
                  rows_quarantined = %s, message = %s, finished_at = clock_timestamp() where batch_id = %s""",
        (status, rows_read, rows_loaded, rows_quarantined, message, batch_id),
    )
