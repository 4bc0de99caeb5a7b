"""The whole slice through Airflow itself: four source DAGs and the cosmos transform, on real PostgreSQL."""

import csv
import json

import psycopg
import pytest

from insight_hub.demo import DemoConfig
from insight_hub.pipeline import run_pipeline
from tests.conftest import make_settings

pytestmark = pytest.mark.e2e

DEMO = DemoConfig(customers=300, days=4, seed=5, invalid_rate=0.02)


@pytest.fixture(scope="module")
def pipeline_run(settings, warehouse):
    # Broken rows are injected at 2 %; small daily files could pass the 10 % batch limit by chance,
    # so the limit is raised: this test is about rows accounted for, not about rejection.
    run_settings = make_settings(settings.home, INSIGHT_HUB_MAX_REJECT_SHARE=0.5, INSIGHT_HUB_PG_PORT=0)
    report = run_pipeline(run_settings, DEMO, echo=lambda *_: None)
    truth_dir = run_settings.landing_dir / "_ground_truth"
    return report, truth_dir


def test_every_dag_run_succeeded(pipeline_run):
    report, _ = pipeline_run
    assert report.dag_runs == {
        "source_contact_centre": "success",
        "source_crm": "success",
        "source_survey": "success",
        "source_sales": "success",
        "transform": "success",
    }


def test_rows_loaded_equal_rows_generated_minus_rows_quarantined(pipeline_run, warehouse):
    report, truth_dir = pipeline_run
    truth = json.loads((truth_dir / "summary.json").read_text())["files"]
    with psycopg.connect(report.warehouse) as conn:
        batches = conn.execute(
            "select source_file, status, rows_read, rows_loaded, rows_quarantined from ops.load_batch"
        ).fetchall()
    by_file = {path.split("/landing/", 1)[1]: rest for path, *rest in batches}
    assert set(by_file) == set(truth), "every generated file is one batch"
    injected = 0
    for name, gt in truth.items():
        status, read, loaded, quarantined = by_file[name]
        assert status == "published", name
        assert (read, loaded, quarantined) == (gt["rows"], gt["rows"] - gt["invalid"], gt["invalid"]), name
        injected += gt["invalid"]
    assert injected > 0


def test_customer_360_has_one_row_per_true_customer(pipeline_run):
    report, truth_dir = pipeline_run
    with psycopg.connect(report.warehouse) as conn:
        rows, distinct = conn.execute(
            "select count(*), count(distinct customer_id) from marts.customer_360"
        ).fetchone()
        with_contacts = conn.execute("select count(*) from marts.customer_360 where contacts > 0").fetchone()[
            0
        ]
    assert rows == distinct == DEMO.customers
    assert with_contacts > 0


def test_identity_resolution_against_ground_truth(pipeline_run):
    """This first identity step matches records to CRM accounts by CRM id, survey-to-contact link, exact
    normalised e-mail and exact E.164 phone. Every demo customer is in the CRM with a unique e-mail and
    phone, and every record carries at least one of them, so every valid record must resolve, correctly."""
    report, truth_dir = pipeline_run
    truth = {
        (r["record_type"], r["record_id"]): r["customer"]
        for r in csv.DictReader((truth_dir / "identity.csv").open())
        if r["record_type"] != "account"
    }
    with psycopg.connect(report.warehouse) as conn:
        resolved = conn.execute(
            "select record_type, record_id, customer_id, match_rule from intermediate.int_customer_records_resolved"
        ).fetchall()
    assert len(resolved) > 0
    assert all((t, i) in truth for t, i, _, _ in resolved)
    unmatched = [r for r in resolved if r[2] is None]
    wrong = [r for r in resolved if r[2] is not None and truth[(r[0], r[1])] != r[2]]
    assert unmatched == []
    assert wrong == []
    assert {r[3] for r in resolved} >= {"crm_id", "email", "phone", "interaction_link"}


def test_dq_scorecard_counts_every_validated_batch(pipeline_run):
    report, truth_dir = pipeline_run
    truth = json.loads((truth_dir / "summary.json").read_text())["files"]
    with psycopg.connect(report.warehouse) as conn:
        validated = dict(
            conn.execute(
                "select entity, max(batches_validated) from marts.dq_scorecard group by entity"
            ).fetchall()
        )
        failed_rows = conn.execute(
            "select coalesce(sum(rows_failed), 0) from marts.dq_scorecard "
            "where entity = 'interaction' and severity = 'error' and rows_evaluated is not null"
        ).fetchone()[0]
        gx_quarantined = conn.execute(
            "select count(*) from quarantine.interaction q where not exists "
            "(select 1 from unnest(q.reasons) r where r like '%: not a valid %' or r like '%required value missing')"
        ).fetchone()[0]
    calls = sum(1 for name in truth if name.startswith("contact_centre/calls_"))
    assert validated["interaction"] == calls
    # Rows the row-level expectations failed are exactly the rows quarantined for an expectation.
    assert failed_rows == gx_quarantined
