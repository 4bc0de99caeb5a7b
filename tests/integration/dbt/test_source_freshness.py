"""`dbt source freshness` passes for a source loaded recently and fails, naming it, once it goes stale."""

import re

import psycopg
import pytest

from insight_hub.ingest.load import load_file
from insight_hub.sources.registry import Registry
from insight_hub.warehouse.schema import ensure_all
from tests.conftest import ROOT, run_dbt

pytestmark = pytest.mark.integration

INDEX_SCAN = re.compile(r"Index Only Scan (Backward )?using response_loaded_at")


def _load_one_response(url, tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text(
        '{"responseId": "R1", "surveyType": "csat", "score": 5, "submittedAt": "2026-11-20T10:00:00Z"}\n'
    )
    _, mapping = Registry(ROOT / "examples" / "demo" / "sources.yaml").entity("response")
    load_file(url, "survey", path, mapping, ROOT / "expectations" / "response.json")


def _freshness(url, target):
    return run_dbt(url, target, "source", "freshness", "--select", "source:survey.response")


def test_a_source_not_loaded_for_over_50_hours_fails_freshness(fresh_db, tmp_path):
    _load_one_response(fresh_db, tmp_path)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ensure_all(conn)

    fresh = _freshness(fresh_db, tmp_path / "t1")
    assert fresh.returncode == 0, fresh.stdout[-2000:]
    assert "PASS freshness of survey.response" in fresh.stdout

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("update raw.response set _loaded_at = now() - interval '51 hours'")
    stale = _freshness(fresh_db, tmp_path / "t2")
    assert stale.returncode == 1
    assert "ERROR STALE freshness of survey.response" in stale.stdout


def test_the_newest_load_is_read_through_an_index(fresh_db, tmp_path):
    # Every freshness check reads max(_loaded_at) of each raw table: through a btree index that is one
    # probe of the index's end, where a BRIN index (what an earlier version created) left a whole scan.
    _load_one_response(fresh_db, tmp_path)

    def plan(conn):
        with conn.transaction():
            conn.execute("set local enable_seqscan = off")  # a one-row table: ask what can serve it
            rows = conn.execute("explain select max(_loaded_at) from raw.response").fetchall()
        return "\n".join(r[0] for r in rows)

    def access_method(conn):
        return conn.execute(
            "select am.amname from pg_class c join pg_am am on am.oid = c.relam "
            "where c.oid = 'raw.response_loaded_at'::regclass"
        ).fetchone()[0]

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert access_method(conn) == "btree"
        assert INDEX_SCAN.search(plan(conn))

        conn.execute("drop index raw.response_loaded_at")
        conn.execute("create index response_loaded_at on raw.response using brin (_loaded_at)")
        assert "Seq Scan on response" in plan(conn)

        ensure_all(conn)  # as every load and the transform's prepare_warehouse do
        assert access_method(conn) == "btree"
        assert INDEX_SCAN.search(plan(conn))
