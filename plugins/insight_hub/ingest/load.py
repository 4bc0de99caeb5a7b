"""Load one source file as one batch: stage, validate, publish, audit.

A batch is identified by the file's content checksum. Loading the same
content again (a retry, a rerun, a renamed copy) finds the published batch
and changes nothing; two attempts at once serialise on an advisory lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from insight_hub.ingest import publish as pub
from insight_hub.ingest.stage import StageTables, StagingError, parse, stage_file
from insight_hub.quality.gx_runner import Validation, record_results, validate_table
from insight_hub.sources import files
from insight_hub.sources.registry import Mapping
from insight_hub.warehouse import sqlalchemy_url
from insight_hub.warehouse.schema import bootstrap, ensure_entity_tables

log = logging.getLogger(__name__)


class BatchRejected(RuntimeError):
    """A batch failed a batch-level check; nothing from it was published."""


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


def load_file(
    url: str,
    source: str,
    path: Path,
    mapping: Mapping,
    suite_path: Path,
    *,
    max_reject_share: float = 0.1,
    airflow_run_id: str | None = None,
    after_publish: Callable[[psycopg.Connection], None] | None = None,
) -> BatchResult:
    """Load `path` as one batch. `after_publish` runs inside the publishing transaction (a watermark
    moves with the rows it covers, or not at all)."""
    contract = mapping.contract
    entity = contract.entity
    batch_key = files.checksum(path)
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap(conn)
        ensure_entity_tables(conn, contract)
        conn.execute(
            "select pg_advisory_lock(hashtextextended(%s, 0))", (f"insight_hub:{entity}:{batch_key}",)
        )
        published = conn.execute(
            "select batch_id from ops.load_batch where entity = %s and batch_key = %s and status = 'published'",
            (entity, batch_key),
        ).fetchone()
        if published:
            return BatchResult(
                entity, str(path), published[0], "skipped", message="content already published"
            )
        _close_abandoned(conn, entity, batch_key)
        batch_id = conn.execute(
            """insert into ops.load_batch (source, entity, batch_key, source_file, status, airflow_run_id)
               values (%s, %s, %s, %s, 'running', %s) returning batch_id""",
            (source, entity, batch_key, str(path), airflow_run_id),
        ).fetchone()[0]
        tables = StageTables.for_batch(batch_id)
        try:
            result = _run_batch(
                conn,
                url,
                batch_id,
                tables,
                path,
                mapping,
                suite_path,
                batch_key,
                max_reject_share,
                after_publish,
            )
        except (StagingError, BatchRejected) as exc:
            status = "rejected" if isinstance(exc, BatchRejected) else "failed"
            _finish(conn, batch_id, status, message=str(exc))
            tables.drop_all(conn)
            raise
        except Exception as exc:
            _finish(conn, batch_id, "failed", message=f"{type(exc).__name__}: {str(exc)[:500]}")
            tables.drop_all(conn)
            raise
        tables.drop_all(conn)
        return result


@dataclass
class CheckedBatch:
    """A staged, typed and validated batch, with its quarantine collected but nothing published."""

    rows_read: int
    rows_bad: int
    validation: Validation
    absent_columns: list[str]
    source_columns: list[str]
    unmapped_columns: list[str]
    incompatible: list[str]

    def problems(self, max_reject_share: float) -> list[str]:
        """Why the batch must be rejected; empty when it may be published."""
        out = [f"{o.name}: {o.reason} (observed {o.observed_value})" for o in self.validation.batch_failures]
        out += self.incompatible
        if self.rows_read and self.rows_bad / self.rows_read > max_reject_share:
            out.append(
                f"{self.rows_bad} of {self.rows_read} rows failed checks, above the {max_reject_share:.0%} limit"
            )
        return out

    def warnings(self) -> list[str]:
        out = [f"{o.name}: {o.unexpected_count} rows" for o in self.validation.warnings]
        out += [f"mapped column {c!r} is absent from the export; loaded as null" for c in self.absent_columns]
        if self.unmapped_columns:
            out.append(
                f"export columns not in the mapping, kept in raw._extra: {', '.join(self.unmapped_columns)}"
            )
        return out


def check_batch(
    conn: psycopg.Connection, url: str, tables: StageTables, path: Path, mapping: Mapping, suite_path: Path
) -> CheckedBatch:
    """Write and audit: stage the file, type it, validate it, and collect the rows to quarantine."""
    staged_columns = stage_file(conn, tables, path, mapping)
    absent = parse(conn, tables, mapping, staged_columns)
    used = {c for m in mapping.column_maps().values() for c in m.export_columns()}
    unmapped = [c for c in staged_columns if c not in used]
    rows_read = conn.execute(sql.SQL("select count(*) from {}").format(tables.incoming)).fetchone()[0]
    typed_rows = conn.execute(sql.SQL("select count(*) from {}").format(tables.typed)).fetchone()[0]
    validation = validate_table(
        sqlalchemy_url(url), "stage", tables.typed_table_name, suite_path, row_count=typed_rows
    )
    pub.collect_quarantine(conn, tables, validation.row_failures)
    return CheckedBatch(
        rows_read,
        pub.count_quarantined(conn, tables),
        validation,
        absent,
        staged_columns,
        unmapped,
        _incompatible_columns(conn, tables, mapping),
    )


def _incompatible_columns(conn: psycopg.Connection, tables: StageTables, mapping: Mapping) -> list[str]:
    """Typed columns where not one value parses: the export changed type, so reject rather than quarantine all."""
    typed = [c for c in mapping.contract.columns if c.type != "text" and c.name in mapping.columns]
    if not typed:
        return []
    # One scan counts, per column, the values present and the values that failed to parse.
    counts = sql.SQL(", ").join(
        sql.SQL("count({c}), count(*) filter (where {r} = any(_errors))").format(
            c=sql.Identifier(col.name), r=sql.Literal(f"{col.name}: not a valid {col.type}")
        )
        for col in typed
    )
    row = conn.execute(sql.SQL("select {} from {}").format(counts, tables.checked)).fetchone()
    out = []
    for i, col in enumerate(typed):
        present, failed = row[2 * i], row[2 * i + 1]
        if failed > 1 and failed == present:
            out.append(
                f"column {col.name}: none of its {present} values is a valid {col.type} (incompatible type)"
            )
    return out


def _run_batch(
    conn: psycopg.Connection,
    url: str,
    batch_id: int,
    tables: StageTables,
    path: Path,
    mapping: Mapping,
    suite_path: Path,
    batch_key: str,
    max_reject_share: float,
    after_publish: Callable[[psycopg.Connection], None] | None = None,
) -> BatchResult:
    contract = mapping.contract
    checked = check_batch(conn, url, tables, path, mapping, suite_path)
    record_results(conn, batch_id, contract.entity, checked.validation)
    problems = checked.problems(max_reject_share)
    if problems:
        raise BatchRejected(f"{path.name}: batch rejected: " + "; ".join(problems))
    warnings = checked.warnings()
    with conn.transaction():
        loaded, quarantined = pub.publish(
            conn, tables, contract, batch_id, batch_key, str(path), checked.unmapped_columns
        )
        conn.execute(
            "update ops.load_batch set source_columns = %s, unmapped_columns = %s where batch_id = %s",
            (checked.source_columns, checked.unmapped_columns, batch_id),
        )
        if after_publish is not None:
            after_publish(conn)
        _finish(
            conn,
            batch_id,
            "published",
            checked.rows_read,
            loaded,
            quarantined,
            "; ".join(warnings) or None,
        )
    return BatchResult(
        contract.entity,
        str(path),
        batch_id,
        "published",
        checked.rows_read,
        loaded,
        quarantined,
        warnings=warnings,
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
        """update ops.load_batch set status = %s, rows_read = %s, rows_loaded = %s, rows_quarantined = %s,
                  message = %s, finished_at = clock_timestamp() where batch_id = %s""",
        (status, rows_read, rows_loaded, rows_quarantined, message, batch_id),
    )
