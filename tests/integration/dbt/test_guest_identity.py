"""Guests keep their customer_id as new records bring new keys; when two turn out to be one person,
the merge keeps one of their ids and is logged."""

import csv

import psycopg
import pytest

from insight_hub.ingest.load import load_file
from insight_hub.sources.registry import Registry
from insight_hub.warehouse.access import ensure_access
from insight_hub.warehouse.schema import ensure_all
from tests.conftest import ROOT, run_dbt

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
HEADER = [
    "Call ID", "Media Type", "Queue Name", "Agent", "Customer Account", "ANI", "Email Address", "Queue Start",
    "Answer Time", "End Time", "Talk Time", "Hold Time", "ACW Time", "Transferred", "Disposition", "Outcome",
    "Complaint", "Notes",
]  # fmt: skip


def _calls(url, path, rows):
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for call_id, phone, email in rows:
            w.writerow([call_id, "Phone", "billing", "AG1", "", phone, email, "2026-11-20 10:00:00",
                        "2026-11-20 10:00:10", "2026-11-20 10:05:00", 290, 0, 10, "N", "billing", "resolved", "N", ""])  # fmt: skip
    load_file(
        url,
        "contact_centre",
        path,
        REGISTRY.entity("interaction")[1],
        ROOT / "expectations" / "interaction.json",
    )


def _build(url, tmp_path):
    out = run_dbt(
        url,
        tmp_path / "t",
        "run",
        "--select",
        "+int_customer_records_resolved",
        "+int_identity_guest_changes",
    )
    assert out.returncode == 0, out.stdout[-3000:]
    with psycopg.connect(url) as conn:
        ids = dict(
            conn.execute(
                "select record_id, customer_id from intermediate.int_customer_records_resolved"
            ).fetchall()
        )
        changes = conn.execute(
            "select change_type, customer_id, other_id from intermediate.int_identity_guest_changes"
        ).fetchall()
    return ids, changes


def test_guest_ids_are_stable_and_merges_are_logged(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ensure_all(conn)  # an empty CRM: everyone is a guest
        ensure_access(conn, b"k")
    _calls(fresh_db, tmp_path / "calls_1.csv", [("I1", "07700 900111", ""), ("I2", "", "pat@example.com")])
    first, changes = _build(fresh_db, tmp_path)
    assert first["I1"].startswith("G") and first["I2"].startswith("G") and first["I1"] != first["I2"]
    assert changes == []

    # I3 links I1's phone to a new e-mail that sorts before it: the component's smallest key changes,
    # the guest's id does not.
    _calls(fresh_db, tmp_path / "calls_2.csv", [("I3", "+447700900111", "aaron@example.com")])
    second, changes = _build(fresh_db, tmp_path)
    assert second["I1"] == second["I3"] == first["I1"]
    assert second["I2"] == first["I2"] and changes == []

    # I4 carries both guests' keys: they were one person. One id survives; the other is logged.
    _calls(fresh_db, tmp_path / "calls_3.csv", [("I4", "07700900111", "PAT@example.com")])
    third, changes = _build(fresh_db, tmp_path)
    survivor = third["I1"]
    assert {third[i] for i in ("I1", "I2", "I3", "I4")} == {survivor}
    assert survivor in (first["I1"], first["I2"])
    absorbed = ({first["I1"], first["I2"]} - {survivor}).pop()
    assert changes == [("merge", survivor, absorbed)]

    # Building again finds nothing new to log.
    _, changes = _build(fresh_db, tmp_path)
    assert changes == [("merge", survivor, absorbed)]


def test_a_guest_whose_link_disappears_splits_and_the_split_is_logged(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ensure_all(conn)
        ensure_access(conn, b"k")
    _calls(fresh_db, tmp_path / "calls_1.csv", [("I1", "07700 900222", "sam@example.com")])
    first, _ = _build(fresh_db, tmp_path)
    guest = first["I1"]

    # A corrected export of I1 no longer carries the e-mail, and I2 carries only the e-mail: nothing
    # links the phone and the e-mail any more, so one guest is now two.
    _calls(fresh_db, tmp_path / "calls_2.csv", [("I1", "07700 900222", ""), ("I2", "", "sam@example.com")])
    second, changes = _build(fresh_db, tmp_path)
    assert second["I1"] != second["I2"]
    assert guest in (second["I1"], second["I2"])
    split_off = ({second["I1"], second["I2"]} - {guest}).pop()
    assert changes == [("split", split_off, guest)]


def test_a_survey_joins_the_guest_of_the_contact_it_answers(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        ensure_all(conn)
        ensure_access(conn, b"k")
    # I1 carries only a phone, I2 only an e-mail; nothing in the calls links them.
    _calls(fresh_db, tmp_path / "calls.csv", [("I1", "07700 900333", ""), ("I2", "", "kim@example.com")])
    # R1 answers I1 and carries I2's e-mail: the survey joins the two guests into one.
    path = tmp_path / "responses.jsonl"
    path.write_text(
        '{"responseId": "R1", "surveyType": "csat", "score": 2, "submittedAt": "2026-11-20T11:00:00Z",'
        ' "contactRef": "I1", "respondent": {"email": "kim@example.com"}}\n'
    )
    load_file(
        fresh_db, "survey", path, REGISTRY.entity("response")[1], ROOT / "expectations" / "response.json"
    )
    ids, _ = _build(fresh_db, tmp_path)
    assert ids["I1"].startswith("G")
    assert ids["I1"] == ids["R1"] == ids["I2"]
