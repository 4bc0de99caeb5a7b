"""SQL source: a table or view in another PostgreSQL, read incrementally by a watermark column."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from insight_hub.sources.connections import ConnInfo
from insight_hub.sources.registry import SqlFeed


class SqlSourceError(RuntimeError):
    """The source database or table cannot be read; the message names which."""


def sql_records(feed: SqlFeed, conn: ConnInfo, since: str | None) -> Iterator[dict]:
    """Rows with watermark > since, oldest first, streamed with a server-side cursor."""
    table = sql.SQL(".").join(sql.Identifier(part) for part in feed.table.split("."))
    wm = sql.Identifier(feed.watermark)
    query = sql.SQL("select * from {t}{where} order by {wm}").format(
        t=table, wm=wm, where=sql.SQL(" where {} > %s").format(wm) if since is not None else sql.SQL("")
    )
    try:
        with psycopg.connect(conn.postgres_url(), connect_timeout=15) as src:
            with src.cursor(name="insight_hub_extract", row_factory=dict_row) as cur:
                cur.itersize = feed.batch_rows
                cur.execute(query, (since,) if since is not None else None)
                yield from cur
    except psycopg.OperationalError as exc:
        raise SqlSourceError(f"cannot reach source {feed.conn_id} ({conn.host}:{conn.port}): {exc}") from exc
    except psycopg.errors.UndefinedTable as exc:
        raise SqlSourceError(f"source {feed.conn_id} has no table {feed.table}") from exc
    except psycopg.errors.UndefinedColumn as exc:
        raise SqlSourceError(f"source table {feed.table} has no watermark column {feed.watermark}") from exc
