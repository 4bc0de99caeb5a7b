"""Extract SQL and API feeds to a JSON Lines file, so they load like any landed file.

The file is the batch: its checksum makes a retry of the same extract a no-op,
and it stays under <home>/extracts as a record of what the source said.
Watermarks live in ops.watermark and only move after a batch is published.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

WATERMARK_DDL = """
create table if not exists ops.watermark (
    feed_id text primary key,
    entity text not null,
    value text not null,
    updated_at timestamptz not null default now()
)
"""


def read_watermark(conn: psycopg.Connection, feed_id: str) -> str | None:
    conn.execute(WATERMARK_DDL)
    row = conn.execute("select value from ops.watermark where feed_id = %s", (feed_id,)).fetchone()
    return row[0] if row else None


def save_watermark(conn: psycopg.Connection, feed_id: str, entity: str, value: str) -> None:
    conn.execute(WATERMARK_DDL)
    conn.execute(
        """insert into ops.watermark (feed_id, entity, value) values (%s, %s, %s)
           on conflict (feed_id) do update set value = excluded.value, updated_at = now()""",
        (feed_id, entity, value),
    )


def write_extract(
    records: Iterable[dict], out_dir: Path, feed_id: str, watermark_field: str | None
) -> tuple[Path | None, int, str | None]:
    """Stream records to <out_dir>/<feed>_<utc time>.jsonl.gz; returns (path or None when empty, rows, max watermark)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = hashlib.sha1(feed_id.encode()).hexdigest()[:10]
    path = out_dir / f"{safe}_{datetime.now(UTC):%Y%m%dT%H%M%S%f}.jsonl.gz"
    rows = 0
    high: str | None = None
    high_raw: object = None
    # mtime=0: the same records always give the same bytes, so the same checksum.
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        for record in records:
            raw.write(json.dumps(record, default=str, ensure_ascii=False).encode() + b"\n")
            rows += 1
            if watermark_field and record.get(watermark_field) is not None:
                value = record[watermark_field]
                if high_raw is None or value > high_raw:
                    high_raw = value
    if rows == 0:
        path.unlink()
        return None, 0, None
    if high_raw is not None:
        high = high_raw.isoformat() if hasattr(high_raw, "isoformat") else str(high_raw)
    return path, rows, high
