"""Values a suite's `{"$PARAMETER": ...}` placeholders take for one batch, from the entity's history."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import psycopg

# The volume band is the median of this many recent published batches; fewer than MIN_HISTORY and
# there is no band yet (any non-empty batch is in range).
RECENT_BATCHES = 10
MIN_HISTORY = 3
# What a load uses unless settings say otherwise (INSIGHT_HUB_FRESHNESS_HOURS, INSIGHT_HUB_VOLUME_BAND).
DEFAULT_FRESHNESS = timedelta(hours=48)
DEFAULT_VOLUME_BAND = 3.0


def suite_parameters(
    conn: psycopg.Connection,
    entity: str,
    batch_id: int | None,
    *,
    volume_band: float,
    freshness: timedelta,
    now: datetime | None = None,
) -> dict:
    """`batch_id` is the batch being validated (its history is the published batches before it), or None
    for an export not loaded yet (the mapping preview), held against every published batch."""
    recent = [
        r[0]
        for r in conn.execute(
            """select rows_read from ops.load_batch
               where entity = %s and status = 'published' and (%s::bigint is null or batch_id < %s)
                     and rows_read > 0
               order by batch_id desc limit %s""",
            (entity, batch_id, batch_id, RECENT_BATCHES),
        ).fetchall()
    ]
    if len(recent) >= MIN_HISTORY:
        median = statistics.median(recent)
        volume_min, volume_max = math.floor(median / volume_band), math.ceil(median * volume_band)
    else:
        volume_min, volume_max = 0, None
    return {
        "volume_min": volume_min,
        "volume_max": volume_max,
        "fresh_after": (now or datetime.now(UTC)) - freshness,
    }
