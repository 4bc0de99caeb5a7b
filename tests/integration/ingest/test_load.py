"""Loads against a real PostgreSQL: every row read is loaded or quarantined, reruns change nothing."""

import json
import shutil

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.load import BatchRejected, load_file
from insight_hub.ingest.runner import EntityLoadFailed, load_entity
from insight_hub.sources.registry import Registry
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
SUITES = ROOT / "expectations"


@pytest.fixture
def landing(tmp_path):
    generate(tmp_path / "landing", DemoConfig(customers=600, days=3, seed=11, invalid_rate=0.06))
    return tmp_path / "landing"


def _batches(url, entity):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select regexp_replace(source_file, '^.*/', ''), status, rows_read, rows_loaded, rows_quarantined "
            "from ops.load_batch where entity = %s order by batch_id",
            (entity,),
        ).fetchall()


def test_rows_read_equal_loaded_plus_quarantined_and_match_ground_truth(fresh_db, landing, tmp_path):
    # Broken rows are injected at 6 % here; the batch-rejection limit is raised so they quarantine.
    settings = make_settings(tmp_path, INSIGHT_HUB_LANDING_DIR=str(landing), INSIGHT_HUB_MAX_REJECT_SHARE=0.5)
    truth = json.loads((landing / "_ground_truth" / "summary.json").read_text())["files"]
    summary = load_entity(fresh_db, "contact_centre", "interaction", settings=settings)
    assert summary.files_found == 3
    expected_invalid = sum(v["invalid"] for k, v in truth.items() if "calls_" in k)
    assert expected_invalid > 0, "the fixture must contain broken rows to prove quarantine"
    for name, status, read, loaded, quarantined in _batches(fresh_db, "interaction"):
        gt = truth[f"contact_centre/{name}"]
        assert status == "published"
        assert (read, loaded, quarantined) == (gt["rows"], gt["rows"] - gt["invalid"], gt["invalid"])
    with psycopg.connect(fresh_db) as conn:
        raw = conn.execute("select count(*) from raw.interaction").fetchone()[0]
        quarantined = conn.execute("select count(*) from quarantine.interaction").fetchone()[0]
        reasons = conn.execute("select distinct unnest(reasons) from quarantine.interaction").fetchall()
    assert quarantined == expected_invalid
    assert raw == summary.rows_read - expected_invalid
    assert {r[0] for r in reasons} <= {
        "queued_at: not a valid timestamptz",
        "talk_seconds: not a valid integer",
        "channel is not one of phone, chat, email, social",
        "hold_seconds is negative",
        "interaction_id: required value missing",
    }


def _table_digest(url, table):
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"select count(*), md5(string_agg(t::text, '|' order by t::text)) from (select * from {table}) t"
        ).fetchone()


def test_rerun_and_renamed_copy_load_nothing_twice(fresh_db, landing, tmp_path):
    settings = make_settings(tmp_path, INSIGHT_HUB_LANDING_DIR=str(landing), INSIGHT_HUB_MAX_REJECT_SHARE=0.5)
    first = load_entity(fresh_db, "sales", "order", settings=settings)
    raw_before = _table_digest(fresh_db, "raw.order")
    quarantine_before = _table_digest(fresh_db, "quarantine.order")
    # A rerun of the same interval, then a renamed copy of an already published file: the same batches.
    rerun = load_entity(fresh_db, "sales", "order", settings=settings)
    original = sorted((landing / "sales").glob("orders_*.csv"))[0]
    shutil.copy(original, landing / "sales" / "orders_9999-copy.csv")
    second = load_entity(fresh_db, "sales", "order", settings=settings)
    assert [b.status for b in rerun.batches] == ["skipped"] * first.files_found
    assert second.files_found == first.files_found + 1
    assert [b.status for b in second.batches] == ["skipped"] * second.files_found
    assert raw_before[0] == first.rows_loaded
    assert _table_digest(fresh_db, "raw.order") == raw_before
    assert _table_digest(fresh_db, "quarantine.order") == quarantine_before


def test_a_rejected_batch_publishes_nothing(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("agent")
    path = tmp_path / "agents.csv"
    # Half the rows have a negative cost: far above the 10 % quarantine limit.
    path.write_text("agent_id,name,team,site,cost_per_hour\nA1,x,t,s,-1\nA2,y,t,s,20\n")
    with pytest.raises(
        BatchRejected,
        match=r"1 of 2 rows failed row checks, above the 10% limit \(cost_per_hour is negative: 1\)",
    ):
        load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json")
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.agent").fetchone()[0] == 0
        assert conn.execute("select count(*) from quarantine.agent").fetchone()[0] == 0
        assert conn.execute("select status from ops.load_batch").fetchall() == [("rejected",)]


def test_empty_file_rejects_the_batch(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("agent")
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name,team,site,cost_per_hour\n")
    with pytest.raises(BatchRejected, match="the batch is empty"):
        load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json")


def test_missing_required_column_names_it(fresh_db, tmp_path):
    landing = tmp_path / "landing"
    (landing / "contact_centre").mkdir(parents=True)
    (landing / "contact_centre" / "agents.csv").write_text("name,team\nx,t\n")
    settings = make_settings(tmp_path, INSIGHT_HUB_LANDING_DIR=str(landing))
    with pytest.raises(EntityLoadFailed, match=r"agent_id \(from 'agent_id'\)"):
        load_entity(fresh_db, "contact_centre", "agent", settings=settings)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select status from ops.load_batch").fetchall() == [("failed",)]


def test_records_with_the_wrong_field_count_are_quarantined_with_line_and_raw_text(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("agent")
    path = tmp_path / "agents.csv"
    lines = ["agent_id,name,team,site,cost_per_hour"] + [f"A{i},n{i},t,s,20" for i in range(1, 20)]
    lines.insert(3, "A99,y,t,s,20,extra")
    lines.insert(7, "A98,short")
    path.write_text("\n".join(lines) + "\n")
    result = load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json", max_reject_share=0.2)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (21, 19, 2)
    with psycopg.connect(fresh_db) as conn:
        quarantined = conn.execute(
            "select record->>'_raw', reasons from quarantine.agent order by _record_no"
        ).fetchall()
        loaded = [r[0] for r in conn.execute("select agent_id from raw.agent order by _record_no")]
    assert quarantined == [
        ("A99,y,t,s,20,extra", ["line 4: expected 5 fields, found 6"]),
        ("A98,short", ["line 8: expected 5 fields, found 2"]),
    ]
    assert loaded == [f"A{i}" for i in range(1, 20)]


def test_jsonl_lines_that_are_not_json_are_quarantined_with_the_raw_line(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("response")
    path = tmp_path / "responses.jsonl"
    good = {"responseId": "R1", "surveyType": "CSAT", "score": 5, "submittedAt": "2026-01-01T10:00:00Z"}
    path.write_text(json.dumps(good) + "\n{broken\n")
    result = load_file(fresh_db, "survey", path, mapping, SUITES / "response.json", max_reject_share=0.6)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    with psycopg.connect(fresh_db) as conn:
        record, reasons = conn.execute("select record, reasons from quarantine.response").fetchone()
    assert record["_raw"] == "{broken"
    assert reasons == ["record is not a JSON object"]


def test_every_expectation_outcome_is_recorded(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("agent")
    path = tmp_path / "agents.csv"
    rows = (
        ["agent_id,name,team,site,cost_per_hour"] + [f"A{i},n,t,s,20" for i in range(19)] + ["A19,n,t,s,-5"]
    )
    path.write_text("\n".join(rows) + "\n")
    result = load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json")
    assert result.rows_quarantined == 1
    with psycopg.connect(fresh_db) as conn:
        outcomes = conn.execute(
            "select expectation_type, column_name, severity, success, rows_evaluated, rows_failed "
            "from ops.dq_result where batch_id = %s order by result_id",
            (result.batch_id,),
        ).fetchall()
    suite = json.loads((SUITES / "agent.json").read_text())["expectations"]
    assert len(outcomes) == len(suite)
    by_type = {(o[0], o[1]): o[2:] for o in outcomes}
    assert by_type[("expect_column_values_to_be_between", "cost_per_hour")] == ("error", False, 20, 1)
    assert by_type[("expect_column_values_to_not_be_null", "agent_id")] == ("error", True, 20, 0)
    row_counts = sorted(o[2:4] for o in outcomes if o[0] == "expect_table_row_count_to_be_between")
    # The batch is not empty (error), and there is no history yet to hold its volume against (warn).
    assert row_counts == [("error", True), ("warn", True)]
