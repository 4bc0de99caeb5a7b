"""`dbt source freshness` passes for a source loaded recently and fails, naming it, once it goes stale."""

import psycopg
import pytest

from insight_hub.ingest.load import load_file
from insight_hub.sources.registry import Registry
from insight_hub.warehouse.schema import ensure_all
from tests.conftest import ROOT, run_dbt

pytestmark = pytest.mark.integration


def _freshness(url, target):
    return run_dbt(url, target, "source", "freshness", "--select", "source:survey.response")


def test_a_source_not_loaded_for_over_50_hours_fails_freshness(fresh_db, tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text(
        '{"responseId": "R1", "surveyType": "csat", "score": 5, "submittedAt": "2026-11-20T10:00:00Z"}\n'
    )
    _, mapping = Registry(ROOT / "examples" / "demo" / "sources.yaml").entity("response")
    load_file(fresh_db, "survey", path, mapping, ROOT / "expectations" / "response.json")
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
