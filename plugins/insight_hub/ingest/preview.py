"""`insight-hub mapping check`: how a file would load through a mapping, without publishing anything."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from insight_hub.ingest.load import CheckedBatch, check_file
from insight_hub.ingest.stage import StageTables
from insight_hub.sources.registry import Mapping
from insight_hub.warehouse.schema import bootstrap


@dataclass
class Preview:
    checked: CheckedBatch
    columns: list[str]
    rows: list[tuple] = field(default_factory=list)
    rejections: list[tuple[int, list[str]]] = field(default_factory=list)
    reason_counts: list[tuple[str, int]] = field(default_factory=list)


def preview(url: str, path: Path, mapping: Mapping, suite_path: Path, limit: int = 10) -> Preview:
    """Stage, type and validate `path` in scratch tables, read back a sample, then drop everything."""
    # Scratch tables under a tag no real batch uses.
    tables = StageTables(f"preview{os.getpid()}")
    with psycopg.connect(url, autocommit=True) as conn:
        bootstrap(conn)
        tables.drop_all(conn)
        try:
            checked = check_file(conn, url, tables, path, mapping, suite_path)
            columns = mapping.contract.column_names
            q = tables.quarantine
            rows = conn.execute(
                sql.SQL(
                    "select _record_no, {} from {} t where not exists "
                    "(select 1 from {q} where {q}._record_no = t._record_no) order by _record_no limit %s"
                ).format(sql.SQL(", ").join(sql.Identifier(c) for c in columns), tables.typed, q=q),
                (limit,),
            ).fetchall()
            rejections = conn.execute(
                sql.SQL(
                    "select _record_no, array_agg(distinct reason order by reason) from {} "
                    "group by _record_no order by _record_no limit %s"
                ).format(q),
                (limit,),
            ).fetchall()
            reason_counts = conn.execute(
                sql.SQL(
                    "select reason, count(*) from {} group by reason order by count(*) desc, reason"
                ).format(q)
            ).fetchall()
        finally:
            tables.drop_all(conn)
    return Preview(checked, ["record", *columns], rows, rejections, reason_counts)
