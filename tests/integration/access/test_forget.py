"""`insight-hub forget`: one customer's personal data erased from every schema of the warehouse, the
erasure recorded, the facts kept, and a re-export of their old records not bringing anything back.

A demo hub is loaded and built; one CRM customer with contacts, survey responses and orders is chosen,
and one of their calls is also quarantined. Every value that identifies them (e-mail addresses and phone
numbers as written and as normalised, their keyed hashes) is then searched for in every row of every
table, as text, before and after."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.load import load_file
from insight_hub.ingest.runner import load_all_entities
from insight_hub.insight.actions import sync_actions
from insight_hub.sources.registry import Registry
from insight_hub.warehouse import embedded_server
from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import ROOT, make_settings, run_dbt

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
SUITE = ROOT / "expectations" / "interaction.json"
SCHEMAS = ["raw", "quarantine", "stage", "staging", "intermediate", "marts", "marts_pii", "ops"]


def _cli(url, home, *args):
    env = {**os.environ, "WAREHOUSE_URL": url, "INSIGHT_HUB_HOME": str(home)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("insight-hub")), *args], env=env, capture_output=True, text=True
    )


def _occurrences(url, values) -> dict[str, int]:
    """Rows of each table in SCHEMAS whose text holds any of `values` (case-insensitive)."""
    patterns = [f"%{v}%" for v in values]
    found = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = any(%s)",
            (SCHEMAS,),
        ).fetchall()
        for schema, table in tables:
            n = conn.execute(
                f'select count(*) from "{schema}"."{table}" t where t::text ilike any(%s)', (patterns,)
            ).fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found


def _calls(landing: Path) -> tuple[list[str], list[dict]]:
    rows, header = [], None
    for path in sorted((landing / "contact_centre").glob("calls_*.csv")):
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames
            rows.extend(reader)
    return header, rows


def _write_calls(path: Path, header, rows) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def hub(warehouse, settings, tmp_path_factory):
    server = embedded_server(settings)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists t_forget with (force)")
        conn.execute("create database t_forget")
    url = server.url("t_forget")
    tmp = tmp_path_factory.mktemp("forget")
    generate(tmp / "landing", DemoConfig(customers=200, days=14, seed=5))
    hub_settings = make_settings(
        tmp / "home", INSIGHT_HUB_LANDING_DIR=str(tmp / "landing"), INSIGHT_HUB_DATA_DOCS=False
    )
    load_all_entities(url, settings=hub_settings)
    prepare_for_dbt(url, hub_settings)
    build = run_dbt(url, tmp / "target", "build")
    assert build.returncode == 0, build.stdout[-3000:]
    with psycopg.connect(url) as conn:
        sync_actions(conn)
        # A CRM customer the hub knows by e-mail and phone, with calls, survey responses and orders.
        (customer,) = conn.execute(
            """select d.customer_id from marts.dim_customer d
               where d.email_hash is not null and d.phone_hash is not null and d.customer_id in (
                   select customer_id from intermediate.int_customer_records_resolved
                   group by 1 having count(distinct record_type) = 3)
               order by d.customer_id limit 1"""
        ).fetchone()
        identifiers = {
            v
            for row in conn.execute(
                """select c.email, c.phone, p.email, p.phone, d.email_hash, d.phone_hash
                   from raw.contact c join marts_pii.dim_customer_pii p on p.customer_id = c.account_id
                   join marts.dim_customer d on d.customer_id = c.account_id where c.account_id = %s""",
                (customer,),
            )
            for v in row
            if v
        }
        call_ids = {
            r for (r,) in conn.execute(
                "select record_id from intermediate.int_customer_records_resolved "
                "where customer_id = %s and record_type = 'interaction'", (customer,),
            )
        }  # fmt: skip
        before = conn.execute(
            "select (select count(*) from marts.fct_contact), (select count(*) from marts.fct_survey_response), "
            "(select count(*) from marts.fct_order)"
        ).fetchone()
    header, calls = _calls(tmp / "landing")
    theirs = [row for row in calls if row["Call ID"] in call_ids]
    identifiers |= {row[c] for row in theirs for c in ("ANI", "Email Address") if row[c]}
    # One of their calls arrives again with a broken queue time: quarantined, with their details in it
    # (e-mail and phone masked, the call notes as written).
    broken = {**theirs[0], "Queue Start": "not a time"}
    _, mapping = REGISTRY.entity("interaction")
    others = [row for row in calls if row["Call ID"] not in call_ids][:19]  # resent as they were
    broken_file = _write_calls(tmp / "calls_broken.csv", header, [broken, *others])
    bad = load_file(url, "contact_centre", broken_file, mapping, SUITE)
    assert (bad.rows_read, bad.rows_loaded, bad.rows_quarantined) == (20, 19, 1)
    found_before = _occurrences(url, identifiers)

    forgot = _cli(
        url, tmp / "home", "forget", "--customer", customer, "--reason", "request 2026-117", "--no-build"
    )
    assert forgot.returncode == 0, forgot.stderr
    build = run_dbt(url, tmp / "target", "build")  # what `forget` runs without --no-build
    assert build.returncode == 0, build.stdout[-3000:]
    found_after_build = _occurrences(url, identifiers)

    # Their old calls exported again (another file, so a new batch): loaded, and erased as they land.
    again = load_file(
        url, "contact_centre", _write_calls(tmp / "calls_again.csv", header, theirs), mapping, SUITE
    )
    build = run_dbt(url, tmp / "target", "build")
    assert build.returncode == 0, build.stdout[-3000:]
    return {
        "url": url,
        "home": tmp / "home",
        "customer": customer,
        "call_ids": call_ids,
        "call_rows": len(theirs),  # a call corrected in a later file is there twice
        "identifiers": identifiers,
        "before": before,
        "found_before": found_before,
        "found_after_build": found_after_build,
        "again": again,
        "stdout": forgot.stdout,
    }


def test_the_customer_is_found_in_every_layer_before(hub):
    found = hub["found_before"]
    assert len(hub["identifiers"]) >= 6
    # (quarantine holds e-mail and phone masked, so only the erasure's count below shows its record)
    for table in ["raw.contact", "raw.interaction", "marts_pii.dim_customer_pii",
                  "marts.dim_customer", "marts.dim_customer_history", "intermediate.int_identity_keys_seen"]:  # fmt: skip
        assert found.get(table, 0) > 0, (table, found)


def test_after_forget_no_table_holds_anything_that_identifies_them(hub):
    assert hub["found_after_build"] == {}
    assert _occurrences(hub["url"], hub["identifiers"]) == {}


def test_the_erasure_is_recorded_without_personal_values(hub):
    with psycopg.connect(hub["url"]) as conn:
        customer, reason, records, rows = conn.execute(
            "select customer_id, reason, records, rows_erased from ops.erasure"
        ).fetchone()
        erased = dict(conn.execute("select entity, count(*) from ops.erased_record group by 1").fetchall())
    assert (customer, reason) == (hub["customer"], "request 2026-117")
    assert erased["account"] == 1 and erased["interaction"] == len(hub["call_ids"]) > 0
    assert erased["contact"] >= 1 and erased["response"] >= 1 and erased["order"] >= 1
    assert records == sum(erased.values())
    assert rows["raw.account"] == 1 and rows["quarantine.interaction"] == 1
    assert rows["raw.interaction"] == hub["call_rows"] >= len(hub["call_ids"])
    assert f"erasure 1: customer {hub['customer']}" in hub["stdout"]


def test_facts_stay_counted_and_the_account_keeps_its_id(hub):
    with psycopg.connect(hub["url"]) as conn:
        after = conn.execute(
            "select (select count(*) from marts.fct_contact), (select count(*) from marts.fct_survey_response), "
            "(select count(*) from marts.fct_order)"
        ).fetchone()
        customer = conn.execute(
            "select email_hash, phone_hash, email_masked, segment from marts.dim_customer where customer_id = %s",
            (hub["customer"],),
        ).fetchone()
        pii = conn.execute(
            "select full_name, email, phone, postcode from marts_pii.dim_customer_pii where customer_id = %s",
            (hub["customer"],),
        ).fetchone()
        notes = conn.execute(
            "select count(*) from raw.interaction where interaction_id = any(%s) and notes is not null",
            (list(hub["call_ids"]),),
        ).fetchone()[0]
    assert after == hub["before"]
    assert customer[:3] == (None, None, None) and customer[3] is not None
    assert pii in (None, (None, None, None, None))
    assert notes == 0


def test_a_reexport_of_their_old_records_does_not_bring_them_back(hub):
    again = hub["again"]
    assert again.status == "published" and again.rows_loaded == hub["call_rows"]
    with psycopg.connect(hub["url"]) as conn:
        reloaded = conn.execute(
            "select count(*), count(customer_email), count(customer_phone), count(notes) from raw.interaction "
            "where _batch_id = %s",
            (again.batch_id,),
        ).fetchone()
    assert reloaded == (hub["call_rows"], 0, 0, 0)


def test_forgetting_an_unknown_customer_says_so(hub):
    out = _cli(hub["url"], hub["home"], "forget", "--customer", "NO-SUCH", "--reason", "test", "--no-build")
    assert out.returncode == 1
    assert (
        "customer 'NO-SUCH': no CRM account and no contact, survey response or order resolves to them"
        in out.stderr
    )
