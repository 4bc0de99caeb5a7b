"""Sentiment of every distinct comment and contact note, from VADER's English lexicon.

Scored in Python before each transform (dbt cannot call a lexicon library), only for texts not scored
before: ops.text_sentiment holds the SHA-256 of each text and VADER's compound score (-1 .. 1), never
the text. dbt's int_comment_sentiment joins it back by the same hash and prefers the respondent's own
score where a survey response has one (KPIS.md bands); the lexicon speaks for contact notes and for
comments without a score. VADER knows English only: text in other languages scores near 0 (neutral).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

BATCH = 5000

# The free-text columns of the raw tables scored: (table, column).
TEXT_COLUMNS = (("response", "comment"), ("interaction", "notes"))

# The texts of the rows published after the column's mark (every row while it has none) and up to
# `through`, not yet scored, each once; the hash is the one dbt joins on (the same expression there). The
# rows are found by raw.<table>'s _loaded_at index.
TEXTS = """
    select distinct on (text_hash) text_hash, body
    from (
        select encode(sha256(convert_to({column}, 'UTF8')), 'hex') as text_hash, {column} as body
        from raw.{table}
        where
            _loaded_at > coalesce(
                (select scanned_through from ops.text_sentiment_scan where text_column = %(text_column)s),
                '-infinity'
            )
            and _loaded_at <= %(through)s
            and {column} <> ''
    ) as texts
    where not exists (select 1 from ops.text_sentiment as s where s.text_hash = texts.text_hash)
"""


def score_new_texts(conn: psycopg.Connection) -> int:
    """Score every comment and note text not yet in ops.text_sentiment; returns how many were scored.

    Only the rows published since the last scoring are read (ops.text_sentiment_scan keeps how far each
    column was read), so a day's scoring reads the day's rows, not the whole history again; the first
    scoring, and the first after an upgrade, reads every row."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    scored = 0
    for table, column in TEXT_COLUMNS:
        text_column = f"{table}.{column}"
        with conn.transaction():
            # Read before the rows, so a row published meanwhile is after it and read next time.
            through = conn.execute(
                sql.SQL("select max(_loaded_at) from raw.{}").format(sql.Identifier(table))
            ).fetchone()[0]
            if through is None:
                continue
            # Two scorings at once take turns from here (once the column has a mark).
            conn.execute(
                "select 1 from ops.text_sentiment_scan where text_column = %s for update", (text_column,)
            )
            query = sql.SQL(TEXTS).format(table=sql.Identifier(table), column=sql.Identifier(column))
            with conn.cursor(name=f"unscored_{table}") as texts, conn.cursor() as out:
                texts.execute(query, {"text_column": text_column, "through": through})
                while rows := texts.fetchmany(BATCH):
                    out.executemany(
                        "insert into ops.text_sentiment (text_hash, compound) values (%s, %s)",
                        [
                            (digest, round(analyzer.polarity_scores(body)["compound"], 4))
                            for digest, body in rows
                        ],
                    )
                    scored += len(rows)
            conn.execute(
                """insert into ops.text_sentiment_scan (text_column, scanned_through) values (%s, %s)
                   on conflict (text_column) do update set scanned_through = excluded.scanned_through""",
                (text_column, through),
            )
    return scored
