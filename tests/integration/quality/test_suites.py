"""Each suite's checks do what their names say, on real batches in the embedded PostgreSQL."""

import csv
import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from insight_hub.ingest.load import StageLost, load_file, stage_batch, validate_batch
from insight_hub.sources.registry import Registry
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
SUITES = ROOT / "expectations"
LONDON = ZoneInfo("Europe/London")
RECENT = datetime.now(UTC) - timedelta(hours=2)
CALL_HEADER = [
    "Call ID", "Media Type", "Queue Name", "Agent", "Customer Account", "ANI", "Email Address", "Queue Start",
    "Answer Time", "End Time", "Talk Time", "Hold Time", "ACW Time", "Transferred", "Disposition", "Outcome",
    "Complaint", "Notes",
]  # fmt: skip


def _calls(path, rows):
    """rows: (call id, queued, answered, ended) in UTC; the demo mapping reads Europe/London wall time."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CALL_HEADER)
        for call_id, queued, answered, ended in rows:
            london = [
                t.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S") if t else ""
                for t in (queued, answered, ended)
            ]
            w.writerow(
                [
                    call_id,
                    "Phone",
                    "billing",
                    "AG1",
                    "",
                    "",
                    "",
                    *london,
                    60,
                    0,
                    10,
                    "N",
                    "billing",
                    "resolved",
                    "N",
                    "",
                ]
            )


def _responses(path, rows):
    with path.open("w") as fh:
        for response_id, survey_type, score, contact_ref in rows:
            record = {
                "responseId": response_id,
                "surveyType": survey_type,
                "score": score,
                "submittedAt": RECENT.isoformat(),
                "contactRef": contact_ref,
            }
            fh.write(json.dumps(record) + "\n")


def _outcome(url, batch_id, name):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select severity, success, rows_failed, observed_value from ops.dq_result "
            "where batch_id = %s and expectation = %s",
            (batch_id, name),
        ).fetchone()


def _quarantine_reasons(url, entity, batch_id):
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"select record->>'responseId', reasons from quarantine.{entity} where _batch_id = %s order by 1",
            (batch_id,),
        ).fetchall()


def test_survey_scores_are_held_to_their_own_scale(fresh_db, tmp_path):
    path = tmp_path / "responses.jsonl"
    _responses(
        path,
        [
            ("R1", "CSAT", 5, None),
            ("R2", "CSAT", 0, None),  # CSAT is 1-5
            ("R3", "NPS", 0, None),
            ("R4", "NPS", 10, None),
            ("R5", "CES", 7, None),
            ("R6", "CES", 9, None),  # CES is 1-7
            ("R7", "NPS", 11, None),  # outside every scale
        ],
    )
    result = load_file(
        fresh_db,
        "survey",
        path,
        REGISTRY.entity("response")[1],
        SUITES / "response.json",
        max_reject_share=0.5,
    )
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 4, 3)
    reasons = dict(_quarantine_reasons(fresh_db, "response", result.batch_id))
    scale = "score outside its survey scale (CSAT 1-5, NPS 0-10, CES 1-7)"
    assert reasons == {
        "R2": [scale],
        "R6": [scale],
        "R7": ["score is outside 0..10", scale],
    }
    assert _outcome(fresh_db, result.batch_id, "score_within_survey_scale")[:3] == ("error", False, 3)


def test_an_unknown_interaction_reference_is_a_warning_not_a_quarantine(fresh_db, tmp_path):
    calls = tmp_path / "calls.csv"
    _calls(calls, [("C1", RECENT, RECENT + timedelta(seconds=20), RECENT + timedelta(minutes=3))])
    load_file(
        fresh_db, "contact_centre", calls, REGISTRY.entity("interaction")[1], SUITES / "interaction.json"
    )
    path = tmp_path / "responses.jsonl"
    _responses(path, [("R1", "CSAT", 4, "C1"), ("R2", "CSAT", 5, "C404"), ("R3", "NPS", 9, None)])
    result = load_file(fresh_db, "survey", path, REGISTRY.entity("response")[1], SUITES / "response.json")
    assert (result.rows_loaded, result.rows_quarantined) == (3, 0)
    assert _outcome(fresh_db, result.batch_id, "interaction_id_known")[:3] == ("warn", False, 1)
    assert any(w.startswith("interaction_id_known: 1") for w in result.warnings)


def test_contact_timestamps_must_come_in_order(fresh_db, tmp_path):
    t = RECENT
    path = tmp_path / "calls.csv"
    _calls(
        path,
        [
            ("C1", t, t + timedelta(seconds=30), t + timedelta(minutes=5)),
            ("C2", t, t - timedelta(seconds=30), t + timedelta(minutes=5)),  # answered before queued
            ("C3", t, t + timedelta(seconds=30), t + timedelta(seconds=10)),  # ended before answered
            ("C4", t, None, t + timedelta(seconds=40)),  # abandoned: no answer, fine
        ],
    )
    result = load_file(
        fresh_db,
        "contact_centre",
        path,
        REGISTRY.entity("interaction")[1],
        SUITES / "interaction.json",
        max_reject_share=0.5,
    )
    assert (result.rows_loaded, result.rows_quarantined) == (2, 2)
    with psycopg.connect(fresh_db) as conn:
        reasons = conn.execute(
            "select record->>'Call ID', reasons from quarantine.interaction order by 1"
        ).fetchall()
    assert reasons == [
        ("C2", ["answered_at is before queued_at"]),
        ("C3", ["ended_at is before answered_at"]),
    ]


def test_an_order_delivered_before_it_was_ordered_is_quarantined(fresh_db, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_number,customer_email,order_date,order_status,order_total,currency,carrier,"
        "promised_delivery_date,delivered_date\n"
        f"O1,,a@example.com,{RECENT:%Y-%m-%d %H:%M:%S},completed,10,GBP,ParcelCo,,{RECENT + timedelta(days=2):%Y-%m-%d}\n"
        f"O2,,b@example.com,{RECENT:%Y-%m-%d %H:%M:%S},completed,10,GBP,ParcelCo,,{RECENT - timedelta(days=5):%Y-%m-%d}\n"
        f"O3,,c@example.com,{RECENT:%Y-%m-%d %H:%M:%S},completed,10,GBP,ParcelCo,,{RECENT:%Y-%m-%d}\n"
    )
    result = load_file(
        fresh_db, "sales", path, REGISTRY.entity("order")[1], SUITES / "order.json", max_reject_share=0.5
    )
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select record->>'order_id', reasons from quarantine.order").fetchall() == [
            ("O2", ["delivered_date is before ordered_at"])
        ]


def test_every_failing_row_of_a_huge_batch_is_quarantined_not_a_sample(fresh_db, tmp_path):
    path = tmp_path / "agents.csv"
    with path.open("w") as fh:
        fh.write("agent_id,name,team,site,cost_per_hour\n")
        for i in range(100_000):
            fh.write(f"A{i},n,t,s,-{i % 50 + 1}\n")
        fh.write("A-ok,n,t,s,20\n")
    result = load_file(
        fresh_db,
        "contact_centre",
        path,
        REGISTRY.entity("agent")[1],
        SUITES / "agent.json",
        max_reject_share=1.0,
    )
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (100_001, 1, 100_000)


def test_volume_is_held_against_the_median_of_recent_batches(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("agent")

    def agents(name, n):
        path = tmp_path / name
        path.write_text(
            "agent_id,name,team,site,cost_per_hour\n" + "".join(f"{name}{i},n,t,s,20\n" for i in range(n))
        )
        return load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json")

    for day, n in enumerate([10, 12, 11]):
        assert agents(f"d{day}", n).warnings == []
    # Median 11, band 3: 4..33 rows are ordinary.
    assert not any("volume" in w for w in agents("d3", 30).warnings)
    spike = agents("d4", 40)
    assert spike.status == "published"
    assert _outcome(fresh_db, spike.batch_id, "volume_within_recent_band")[:2] == ("warn", False)
    assert any(w.startswith("volume_within_recent_band") for w in spike.warnings)


def test_a_stale_batch_is_reported_and_a_recent_one_is_not(fresh_db, tmp_path):
    _, mapping = REGISTRY.entity("interaction")
    old = datetime.now(UTC) - timedelta(days=10)
    stale_file, fresh_file = tmp_path / "old.csv", tmp_path / "new.csv"
    _calls(stale_file, [("C1", old, old + timedelta(seconds=5), old + timedelta(minutes=2))])
    _calls(fresh_file, [("C2", RECENT, RECENT + timedelta(seconds=5), RECENT + timedelta(minutes=2))])
    stale = load_file(fresh_db, "contact_centre", stale_file, mapping, SUITES / "interaction.json")
    fresh = load_file(fresh_db, "contact_centre", fresh_file, mapping, SUITES / "interaction.json")
    assert _outcome(fresh_db, stale.batch_id, "freshness")[:2] == ("warn", False)
    assert _outcome(fresh_db, fresh.batch_id, "freshness")[:2] == ("warn", True)
    assert stale.status == fresh.status == "published"


def test_validation_refuses_a_batch_whose_stage_was_lost(fresh_db, tmp_path):
    """Stage tables are unlogged: a warehouse crash empties them. Validation must notice, not publish nothing."""
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name,team,site,cost_per_hour\nA1,n,t,s,20\nA2,n,t,s,21\n")
    staged = stage_batch(fresh_db, "contact_centre", path, REGISTRY.entity("agent")[1])
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"truncate stage.in_b{staged.batch_id}")
    with pytest.raises(StageLost, match="stage tables lost"):
        validate_batch(fresh_db, staged.batch_id, SUITES / "agent.json")
    # The next attempt stages the file again and publishes it.
    again = load_file(fresh_db, "contact_centre", path, REGISTRY.entity("agent")[1], SUITES / "agent.json")
    assert (again.status, again.rows_loaded) == ("published", 2)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select status from ops.load_batch order by batch_id").fetchall() == [
            ("failed",),
            ("published",),
        ]


def test_validating_many_batches_leaves_no_connection_open(fresh_db, tmp_path):
    """One process validating batch after batch (a task staging a history of files, the soak benchmark)
    must not keep a warehouse connection per batch: Great Expectations' engines are closed after each."""
    _, mapping = REGISTRY.entity("agent")
    for day in range(5):
        path = tmp_path / f"agents_{day}.csv"
        path.write_text("agent_id,name,team,site,cost_per_hour\n" + f"A{day},n,t,s,20\n")
        assert (
            load_file(fresh_db, "contact_centre", path, mapping, SUITES / "agent.json").status == "published"
        )
    # Client connections only (an autovacuum worker may be analysing the new tables), and a closed
    # connection's server process may take a moment to exit: a leaked one stays.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for _ in range(50):
            others = conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and backend_type = 'client backend' and pid <> pg_backend_pid()"
            ).fetchone()[0]
            if others == 0:
                break
            time.sleep(0.1)
    assert others == 0


def test_validating_many_batches_leaves_no_query_objects_behind(fresh_db, tmp_path):
    """A long-lived process (the soak, a task staging a year of files) validates batch after batch. Each
    validation's engines reflect the table; what they leave reachable must not add up. Before the fix,
    SQLAlchemy kept each validation's reflection queries (hundreds of objects) until 128 were cached."""
    import gc

    from sqlalchemy.sql.selectable import Select

    from insight_hub.quality.gx_runner import validate_table
    from insight_hub.warehouse import sqlalchemy_url

    _, mapping = REGISTRY.entity("agent")
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name,team,site,cost_per_hour\nA1,n,t,s,20\nA2,m,t,s,-1\n")
    staged = stage_batch(fresh_db, "contact_centre", path, mapping)
    parameters = {"volume_min": 0, "volume_max": None}

    def validate_and_count() -> int:
        validation = validate_table(
            sqlalchemy_url(fresh_db),
            "stage",
            f"typed_b{staged.batch_id}",
            SUITES / "agent.json",
            row_count=2,
            parameters=parameters,
        )
        # Each run really validated: the negative cost is found every time.
        assert [o.unexpected_count for o in validation.row_failures] == [1]
        gc.collect()
        # type(), not isinstance(): some objects of other tests (Airflow's) import modules on __class__.
        return sum(type(o) is Select for o in gc.get_objects())

    after_warm_up = [validate_and_count() for _ in range(3)][-1]
    after_more = [validate_and_count() for _ in range(5)][-1]
    assert after_more == after_warm_up
