"""Each comment and note text is scored once, and a day's scoring reads only the rows published since the
last one, not the whole history again."""

import psycopg
import pytest

from insight_hub.ingest.load import load_file
from insight_hub.insight.sentiment import score_new_texts
from insight_hub.sources.registry import Registry
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _load_responses(url, path, comments):
    path.write_text(
        "".join(
            f'{{"responseId": "{rid}", "surveyType": "csat", "score": 4, "comment": "{comment}", '
            f'"submittedAt": "2026-11-20T10:00:00Z"}}\n'
            for rid, comment in comments
        )
    )
    _, mapping = Registry(ROOT / "examples" / "demo" / "sources.yaml").entity("response")
    load_file(url, "survey", path, mapping, ROOT / "expectations" / "response.json")


def _scored(conn):
    return conn.execute("select count(*) from ops.text_sentiment").fetchone()[0]


def test_only_texts_published_since_the_last_scoring_are_read(fresh_db, tmp_path):
    _load_responses(fresh_db, tmp_path / "day1.jsonl", [("R1", "Great service"), ("R2", "Great service"),
                                                        ("R3", "Still waiting for a refund")])  # fmt: skip
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        # Two distinct texts (R1 and R2 say the same); the contact centre's notes column has no rows yet.
        assert score_new_texts(conn) == 2
        assert score_new_texts(conn) == 0
        through = conn.execute(
            "select scanned_through from ops.text_sentiment_scan where text_column = 'response.comment'"
        ).fetchone()[0]
        assert through == conn.execute("select max(_loaded_at) from raw.response").fetchone()[0]

        # A row whose publication is older than what the last scoring read is not read again: a copy of
        # R3 with a new comment, dated before the mark, stays unscored ...
        conn.execute(
            """insert into raw.response
               select (jsonb_populate_record(r, '{"response_id": "R4", "comment": "Dated before the mark"}')).*
               from raw.response as r where response_id = 'R3'"""
        )
        assert score_new_texts(conn) == 0

    # ... while a new day's texts are scored, each new one once.
    _load_responses(
        fresh_db, tmp_path / "day2.jsonl", [("R5", "Great service"), ("R6", "Courier never came")]
    )
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert score_new_texts(conn) == 1
        assert _scored(conn) == 3

        # Without the mark (a warehouse scored before it existed), every row is read again once.
        conn.execute("delete from ops.text_sentiment_scan")
        assert score_new_texts(conn) == 1  # R4's text
        assert _scored(conn) == 4
