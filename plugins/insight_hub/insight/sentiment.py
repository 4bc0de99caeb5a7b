"""Sentiment of every distinct comment and contact note, from VADER's English lexicon.

Scored in Python before each transform (dbt cannot call a lexicon library), only for texts not scored
before: ops.text_sentiment holds the SHA-256 of each text and VADER's compound score (-1 .. 1), never
the text. dbt's int_comment_sentiment joins it back by the same hash and prefers the respondent's own
score where a survey response has one (KPIS.md bands); the lexicon speaks for contact notes and for
comments without a score. VADER knows English only: text in other languages scores near 0 (neutral).
"""

from __future__ import annotations

import psycopg

BATCH = 5000

# The free-text columns of the raw tables, and the hash dbt joins on (the same expression there).
TEXTS = """
    select distinct on (text_hash) text_hash, body
    from (
        select encode(sha256(convert_to(comment, 'UTF8')), 'hex') as text_hash, comment as body
        from raw.response where comment <> ''
        union all
        select encode(sha256(convert_to(notes, 'UTF8')), 'hex'), notes
        from raw.interaction where notes <> ''
    ) as texts
    where not exists (select 1 from ops.text_sentiment as s where s.text_hash = texts.text_hash)
"""


def score_new_texts(conn: psycopg.Connection) -> int:
    """Score every comment and note text not yet in ops.text_sentiment; returns how many were scored."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    scored = 0
    with conn.transaction():
        with conn.cursor(name="unscored_texts") as texts, conn.cursor() as out:
            texts.execute(TEXTS)
            while rows := texts.fetchmany(BATCH):
                out.executemany(
                    "insert into ops.text_sentiment (text_hash, compound) values (%s, %s)",
                    [(digest, round(analyzer.polarity_scores(body)["compound"], 4)) for digest, body in rows],
                )
                scored += len(rows)
    return scored
