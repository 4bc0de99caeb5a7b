"""Read the load audit (ops.load_batch) and what the hub holds, for summaries and `insight-hub loads`."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class EntityTotals:
    source: str
    entity: str
    batches: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    batches_rejected: int


def entity_totals(url: str) -> list[EntityTotals]:
    with psycopg.connect(url) as conn:
        if not conn.execute("select to_regclass('ops.load_batch')").fetchone()[0]:
            return []
        rows = conn.execute(
            """select source, entity,
                      count(*) filter (where status = 'published'),
                      coalesce(sum(rows_read) filter (where status = 'published'), 0),
                      coalesce(sum(rows_loaded) filter (where status = 'published'), 0),
                      coalesce(sum(rows_quarantined) filter (where status = 'published'), 0),
                      count(*) filter (where status in ('rejected', 'failed'))
               from ops.load_batch group by source, entity order by source, entity"""
        ).fetchall()
    return [EntityTotals(*r) for r in rows]


def recent_batches(url: str, limit: int = 20) -> list[tuple]:
    with psycopg.connect(url) as conn:
        if not conn.execute("select to_regclass('ops.load_batch')").fetchone()[0]:
            return []
        return conn.execute(
            """select batch_id, source, entity, status, rows_read, rows_loaded, rows_quarantined,
                      regexp_replace(coalesce(source_file, ''), '^.*/', ''),
                      to_char(started_at, 'YYYY-MM-DD HH24:MI:SS'),
                      round(extract(epoch from finished_at - started_at)::numeric, 2), left(message, 120)
               from ops.load_batch order by batch_id desc limit %s""",
            (limit,),
        ).fetchall()


def hub_customers(url: str) -> int | None:
    with psycopg.connect(url) as conn:
        if not conn.execute("select to_regclass('marts.customer_360')").fetchone()[0]:
            return None
        return conn.execute("select count(*) from marts.customer_360").fetchone()[0]
