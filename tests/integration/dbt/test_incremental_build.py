"""The daily incremental build leaves the hub exactly as a full refresh of the same data would.

The demo history is loaded and built; then one more day lands together with a late contact (two days
after an early contact of the same customer, about the same reason, so the early one stops being a
first-contact resolution and becomes a repeat), a corrected contact (the same id, a new outcome, another
agent, so another contact_centre_daily cell, and its note withdrawn), and a
CRM export in which a guest's e-mail now belongs to an account, another contact's e-mail changed and an
account moved to another relationship owner (whose whole history in manager_kpis then changes), and a
team lead who now leads a second queue (their whole history changes too).
After the incremental build every mart table, and the intermediate tables that are built incrementally,
are compared row for row with a full refresh.
"""

import csv
import shutil
from datetime import UTC, timedelta
from pathlib import Path

import psycopg
import pytest
import yaml

from insight_hub.demo import DemoConfig, generate
from insight_hub.demo.landing import land_history_and_last_day
from insight_hub.ingest.runner import load_all_entities
from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
from insight_hub.settings import PROJECT_ROOT
from insight_hub.warehouse.prepare import prepare_for_dbt
from insight_hub.warehouse.upgrade import drop_outdated_incremental_tables
from tests.conftest import make_settings, run_dbt
from tests.demo_calls import moved_call, queued, read_calls, write_calls

pytestmark = pytest.mark.integration

# Columns that say when a row was written, or what it held before, not what it holds.
BOOKKEEPING = {
    "built_at",
    "previous_customer_id",
    "dbt_scd_id",
    "dbt_updated_at",
    "dbt_valid_from",
    "dbt_valid_to",
    # int_customer_lifetime: the as-of date a customer's 30, 90 and 180-day figures were last counted to.
    "window_end_date",
}


# The incremental intermediate models, compared like the marts.
INCREMENTAL = [
    "int_identity_records",
    "int_identity_crm_matches",
    "int_identity_unmatched_keys",
    "int_customer_records_resolved",
    "int_customer_lifetime",
    "int_comment_theme_matches",
    "int_comment_sentiment",
    "int_theme_weekly_mentions",
    "int_owner_daily_counts",
    "int_charter_measures",
    "int_event_signals",
    "int_delivery_complaints",
]


def _tables(url: str) -> dict[str, list[tuple]]:
    """Every table in marts and the incremental intermediate tables, rows sorted, without bookkeeping
    columns."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where (table_schema = 'marts' and table_type = 'BASE TABLE') "
            "or (table_schema = 'intermediate' and table_name = any(%s)) order by 1, 2",
            (INCREMENTAL,),
        ).fetchall()
        for schema, table in tables:
            columns = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s order by ordinal_position",
                    (schema, table),
                )
                if r[0] not in BOOKKEEPING
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(f'select {select} from {schema}."{table}"').fetchall()
            out[f"{schema}.{table}"] = sorted(rows, key=repr)
    return out


def _crm_keys(url: str, gone: bool = True) -> dict[tuple[str, str], tuple[int, str | None]]:
    """The CRM key map: (key type, key value) -> (accounts, customer), leaving out the keys the CRM no
    longer has (account_count 0) unless `gone`."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select key_type, key_value, account_count, customer_id from intermediate.int_identity_crm_keys"
        ).fetchall()
    return {(t, v): (n, c) for t, v, n, c in rows if gone or n > 0}


def _crm_changes(url, contacts_csv, other_owners):
    """Rewrite the CRM contacts export: a new contact of an account takes the e-mail a guest is known by,
    another new contact the phone of an unmatched contact a survey answers (the survey, which carries only
    its own e-mail, then matches through the contact it answers), two contacts of two accounts the e-mail
    another guest is known by (which then names no one: the guest stays a guest without it), and a
    contact whose e-mail matched records gets another (of an account whose owner is none of
    `other_owners`, whose scope changes and so is recomputed whole anyway). Returns (guest e-mail, its account, the changed
    contact's old e-mail and account)."""
    with psycopg.connect(url) as conn:
        guest_email = conn.execute(
            "select s.key_value from intermediate.int_identity_keys_seen s "
            "join intermediate.int_customer_records_resolved r using (record_type, record_id) "
            "where r.match_rule = 'guest_email' and s.key_type = 'email' order by 1 limit 1"
        ).fetchone()[0]
        shared_email = conn.execute(
            "select s.key_value from intermediate.int_identity_keys_seen s "
            "join intermediate.int_customer_records_resolved r using (record_type, record_id) "
            "where r.match_rule = 'guest_email' and s.key_type = 'email' order by 1 desc limit 1"
        ).fetchone()[0]
        # A contact of an owned account matched by e-mail alone: without the e-mail it becomes a guest's,
        # and on its (old) day only the account's owner counts it differently.
        moved_email, moved_account = conn.execute(
            "select m.match_key_value, m.customer_id from intermediate.int_identity_crm_matches m "
            "join intermediate.int_identity_records i using (record_type, record_id) "
            "join staging.stg_crm__accounts a on a.account_id = m.customer_id "
            "where m.match_rule = 'email' and m.record_type = 'interaction' and a.owner_id <> all(%s) "
            "and i.crm_id is null and not exists (select 1 from intermediate.int_identity_crm_keys k "
            "  where k.key_type = 'phone' and k.key_value = i.phone and k.customer_id is not null) "
            "order by 1 limit 1",
            (list(other_owners),),
        ).fetchone()
        answered_phone = conn.execute(
            "select i.phone from intermediate.int_identity_records i "
            "join intermediate.int_identity_crm_matches m using (record_type, record_id) "
            "where i.record_type = 'interaction' and m.customer_id is null and i.phone is not null "
            "and exists (select 1 from intermediate.int_identity_records r "
            "            where r.record_type = 'response' and r.answers_interaction_id = i.record_id) "
            "order by 1 limit 1"
        ).fetchone()[0]
    with contacts_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    target_account = next(r["AccountId"] for r in rows if r["AccountId"] != moved_account)
    other_account = next(
        r["AccountId"] for r in rows if r["AccountId"] not in (moved_account, target_account)
    )
    for row in rows:
        if row["Email"].strip().lower() == moved_email:
            row["Email"] = "changed." + row["Email"]
    rows.append(
        {**rows[0], "ContactId": "C9999901", "AccountId": target_account, "Email": guest_email, "Phone": ""}
    )
    rows.append(
        {
            **rows[0],
            "ContactId": "C9999902",
            "AccountId": target_account,
            "Email": "",
            "Phone": answered_phone,
        }
    )
    for contact_id, account in (("C9999903", target_account), ("C9999904", other_account)):
        rows.append(
            {**rows[0], "ContactId": contact_id, "AccountId": account, "Email": shared_email, "Phone": ""}
        )
    with contacts_csv.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return guest_email, target_account, moved_email, moved_account


def _move_an_account(url, accounts_csv):
    """Give another relationship owner to the account with complaints whose last contact is the oldest, so
    the new day brings it nothing and only its owner changes its action signals. Returns (account, old
    owner, new owner)."""
    with psycopg.connect(url) as conn:
        busiest = conn.execute(
            "select c.customer_id from marts.fct_contact c join marts.dim_customer d using (customer_id) "
            "where d.owner_id is not null group by 1 having bool_or(c.is_complaint) "
            "order by max(c.queued_at), 1 limit 1"
        ).fetchone()[0]
    with accounts_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    account = next(r for r in rows if r["AccountId"] == busiest)
    old_owner = account["OwnerId"]
    new_owner = next(r["OwnerId"] for r in rows if r["OwnerId"] != old_owner)
    account["OwnerId"] = new_owner
    with accounts_csv.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return account["AccountId"], old_owner, new_owner


def _give_a_team_lead_another_queue(extracts: Path, target: Path) -> tuple[str, list[str]]:
    """Write a copy of the extract scopes in which the first team lead also leads the next lead's queue.
    Returns (the lead, their queues now)."""
    scopes = yaml.safe_load(extracts.read_text())
    leads = sorted(scopes["team_lead_queues"])
    lead, other = leads[0], leads[1]
    queues = [*scopes["team_lead_queues"][lead], *scopes["team_lead_queues"][other]]
    scopes["team_lead_queues"][lead] = queues
    target.write_text(yaml.safe_dump(scopes))
    return lead, queues


def _owner_kpis(url, owner_id):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select period_type, period_start, kpi, measured_value from marts.manager_kpis "
            "where owner_id = %s order by 1, 2, 3",
            (owner_id,),
        ).fetchall()


def _contact_statistics(url) -> dict[str, tuple]:
    """The planner statistics of fct_contact's built_at (a lookup column) and reason (not one), and how
    many times the table was analysed: by a statement, and by the server's autovacuum."""
    with psycopg.connect(url) as conn:
        stats = {
            column: (fractions, bounds)
            for column, fractions, bounds in conn.execute(
                "select attname, most_common_freqs::text, histogram_bounds::text from pg_stats "
                "where schemaname = 'marts' and tablename = 'fct_contact' and attname in ('built_at', 'reason')"
            )
        }
        stats["analyses"] = conn.execute(
            "select analyze_count, autoanalyze_count from pg_stat_user_tables "
            "where relid = 'marts.fct_contact'::regclass"
        ).fetchone()
    return stats


def _pages_not_all_visible(url) -> dict[str, int]:
    """Pages of each fact the visibility map does not mark all-visible, as VACUUM last counted them."""
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "select relname, relpages - relallvisible from pg_class where relnamespace = 'marts'::regnamespace "
                "and relname in ('fct_contact', 'fct_order', 'fct_survey_response')"
            ).fetchall()
        )


def _rows_out_of_day_order(url) -> dict[str, int]:
    """Rows of each fact stored after a row of a later day (in the order of their place in the table)."""
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"select count(*) filter (where day < previous_day) from ("
                f"  select {day} as day, lag({day}) over (order by ctid) as previous_day from marts.{table}"
                f") as t"
            ).fetchone()[0]
            for table, day in (("fct_contact", "contact_date"), ("fct_survey_response", "response_date"))
        }


def _comment_judgements(url, interaction_id):
    """(sentiment rows, theme-matching rows) of one contact's note."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select (select count(*) from intermediate.int_comment_sentiment "
            "        where comment_source = 'contact' and record_id = %(id)s), "
            "       (select count(*) from intermediate.int_comment_themes "
            "        where comment_source = 'contact' and record_id = %(id)s)",
            {"id": interaction_id},
        ).fetchone()


def _resolved_by_email(url, email):
    """(customer_id, match_rule) of every record carrying this e-mail."""
    with psycopg.connect(url) as conn:
        return set(
            conn.execute(
                "select r.customer_id, r.match_rule from intermediate.int_identity_keys_seen s "
                "join intermediate.int_customer_records_resolved r using (record_type, record_id) "
                "where s.key_type = 'email' and s.key_value = %s",
                (email,),
            ).fetchall()
        )


def _late_and_corrected_contacts(history, target, first_contact_resolutions):
    """A calls export holding a late repeat of an early first-contact resolution, and a correction of
    another that has a note: a new outcome, another agent, and the note withdrawn. Returns their ids."""
    files = sorted((history / "contact_centre").glob("calls_*.csv"))
    with files[1].open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    resolved = [r for r in rows if r["Call ID"] in first_contact_resolutions and r["Customer Account"]]
    early = dict(resolved[0])
    corrected = dict(next(r for r in resolved[1:] if r["Notes"]))
    late = moved_call(early, "INT99999901", days=2)
    corrected["Outcome"] = "unresolved"
    corrected["Notes"] = ""
    # Handled by another agent: the contact moves to another contact_centre_daily cell, and the old one
    # must lose it.
    corrected["Agent"] = next(r["Agent"] for r in rows if r["Agent"] and r["Agent"] != corrected["Agent"])
    write_calls(target, [late, corrected])
    return early["Call ID"], corrected["Call ID"]


def _late_order_before_a_delivery_complaint(url, sales: Path) -> tuple[str, str, str]:
    """An orders export (and its line) holding an order that arrives late: placed between a delivery
    complaint and the order the complaint counts against, with another delivery partner, so the
    complaint now counts against it. Returns (the complaint, the late order, its partner)."""
    with psycopg.connect(url) as conn:
        complaint, attributed, partner, ordered_at, queued_at = conn.execute(
            "select d.interaction_id, d.order_id, d.delivery_partner, o.ordered_at, d.queued_at "
            "from intermediate.int_delivery_complaints d join marts.fct_order o using (order_id) "
            "where d.queued_at - o.ordered_at > interval '6 hours' order by 1 limit 1"
        ).fetchone()
        other_partner = conn.execute(
            "select min(delivery_partner) from marts.fct_order where delivery_partner <> %s", (partner,)
        ).fetchone()[0]
    rows = [r for f in sorted(sales.glob("orders_*.csv")) for r in csv.DictReader(f.open(newline=""))]
    late = dict(next(r for r in rows if r["order_id"] == attributed))
    # Halfway between the two, far enough from both that the export's time zone cannot reorder them.
    placed = ordered_at + (queued_at - ordered_at) / 2
    late.update(order_id="SO9999901", order_date=placed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                carrier=other_partner)  # fmt: skip
    with (sales / "orders_zz_late.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerow(late)
    with (sales / "order_lines_zz_late.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["order_id", "line_no", "sku", "qty", "unit_price"])
        writer.writerow(["SO9999901", 1, "SKU0001", 1, late["order_total"]])
    return complaint, "SO9999901", other_partner


# The action rules of this test judge a repeat contact within 10 days: longer than fct_contact's repeat
# window (var repeat_window_days, 7), which is how far before a changed contact fct_contact rebuilds.
REPEAT_WITHIN_DAYS = 10


def _actions_with_a_longer_repeat_window(target: Path) -> Path:
    rules = yaml.safe_load((PROJECT_ROOT / "examples" / "demo" / "actions.yaml").read_text())
    rules["rules"]["repeat_contact"]["within_days"] = REPEAT_WITHIN_DAYS
    target.write_text(yaml.safe_dump(rules))
    return target


def _late_repeat_after_a_quiet_spell(landing: Path, target: Path) -> str:
    """A calls export holding a late contact nine days after an early handled contact of the same account
    and reason, where the account has no other contact in between: inside the actions' repeat window,
    outside fct_contact's. Returns the early contact's id."""
    rows = read_calls(landing)
    last = max(queued(r) for r in rows)
    shift = timedelta(days=REPEAT_WITHIN_DAYS - 1)
    for early in rows:
        start = queued(early)
        if (
            not (early["Customer Account"] and early["Answer Time"] and early["Disposition"])
            or start + shift > last
        ):
            continue
        keys = {early["Customer Account"], early["Email Address"].lower()} - {""}
        if any(
            start < queued(r) <= start + shift + timedelta(days=1)
            and keys & {r["Customer Account"], r["Email Address"].lower()}
            for r in rows
        ):
            continue
        write_calls(target, [moved_call(early, "INT99999902", days=shift.days)])
        return early["Call ID"]
    raise AssertionError("no handled contact with a quiet spell after it in the generated calls")


def test_an_incremental_build_equals_a_full_refresh(fresh_db, tmp_path):
    generate(tmp_path / "gen", DemoConfig(customers=300, days=21, seed=11))
    landing, last_day = tmp_path / "landing", tmp_path / "last_day"
    land_history_and_last_day(tmp_path / "gen", landing, last_day)
    settings = make_settings(
        tmp_path / "home",
        INSIGHT_HUB_LANDING_DIR=str(landing),
        INSIGHT_HUB_DATA_DOCS=False,
        INSIGHT_HUB_ACTIONS=str(_actions_with_a_longer_repeat_window(tmp_path / "actions.yaml")),
    )

    load_all_entities(fresh_db, settings=settings)
    prepare_for_dbt(fresh_db, settings)
    full = run_dbt(fresh_db, tmp_path / "t", "build", "--full-refresh")
    assert full.returncode == 0, full.stdout[-3000:]
    # The build ended by vacuuming the facts int_customer_lifetime reads by index only
    # (macros/visibility.sql): every page is all-visible, so those reads need not visit the tables.
    assert _pages_not_all_visible(fresh_db) == {"fct_contact": 0, "fct_order": 0, "fct_survey_response": 0}
    # The facts are written in day order, so the models that recount a day read that day's pages alone.
    assert _rows_out_of_day_order(fresh_db) == {"fct_contact": 0, "fct_survey_response": 0}
    # Every incremental table the build wrote has the columns its model declares: preparing the next
    # build finds none to rebuild (a declared column the SQL does not make would rebuild it every time).
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert drop_outdated_incremental_tables(conn, MANIFEST_PATH) == []
    with psycopg.connect(fresh_db) as conn:
        before = dict(
            conn.execute(
                "select interaction_id, is_first_contact_resolution from marts.fct_contact"
            ).fetchall()
        )

    shutil.copytree(last_day, landing, dirs_exist_ok=True)
    moved_account_id, old_owner, new_owner = _move_an_account(fresh_db, landing / "crm" / "accounts.csv")
    guest_email, target_account, moved_email, moved_account = _crm_changes(
        fresh_db, landing / "crm" / "contacts.csv", (old_owner, new_owner)
    )
    kpis_before = {owner: _owner_kpis(fresh_db, owner) for owner in (old_owner, new_owner)}
    early_id, corrected_id = _late_and_corrected_contacts(
        landing, landing / "contact_centre" / "calls_zz_late.csv", {i for i, fcr in before.items() if fcr}
    )
    quiet_early_id = _late_repeat_after_a_quiet_spell(
        landing, landing / "contact_centre" / "calls_zz_late2.csv"
    )
    judged_before = _comment_judgements(fresh_db, corrected_id)
    complaint_id, late_order, late_partner = _late_order_before_a_delivery_complaint(
        fresh_db, landing / "sales"
    )
    # Only the build may analyse fct_contact from here on: the server's autovacuum would analyse it whole at
    # a moment it picks (seen once), and the comparison below would then say nothing about the build.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("alter table marts.fct_contact set (autovacuum_enabled = false)")
    statistics_before = _contact_statistics(fresh_db)
    lead, lead_queues = _give_a_team_lead_another_queue(settings.extracts_file, tmp_path / "extracts.yaml")
    kpis_before[lead] = _owner_kpis(fresh_db, lead)
    settings = settings.model_copy(update={"extracts_file": tmp_path / "extracts.yaml"})
    load_all_entities(fresh_db, settings=settings)
    prepare_for_dbt(fresh_db, settings)
    incremental = run_dbt(fresh_db, tmp_path / "t", "build")
    assert incremental.returncode == 0, incremental.stdout[-3000:]
    after_incremental = _tables(fresh_db)

    # fct_contact changed, so the build analysed it again, but only the columns rows are looked up by
    # (its key and indexes): built_at's statistics now see the new rows, reason's are the full build's.
    statistics_after = _contact_statistics(fresh_db)
    assert statistics_after["analyses"][0] == statistics_before["analyses"][0] + 1
    assert statistics_after["built_at"] != statistics_before["built_at"]
    assert statistics_after["analyses"][1] == statistics_before["analyses"][1]
    assert statistics_after["reason"] == statistics_before["reason"]

    # The guest's records now belong to the account that has its e-mail, and the records that matched
    # the changed e-mail no longer match its account by it.
    assert _resolved_by_email(fresh_db, guest_email) == {(target_account, "email")}
    assert (moved_account, "email") not in _resolved_by_email(fresh_db, moved_email)

    with psycopg.connect(fresh_db) as conn:
        owner_now = conn.execute(
            "select owner_id from marts.dim_customer where customer_id = %s", (moved_account_id,)
        ).fetchone()[0]
        rebuilt, owners = conn.execute(
            "select (select count(*) from marts.fct_contact where customer_id = %(c)s "
            "        and built_at = (select max(built_at) from marts.fct_contact)), "
            "       (select array_agg(distinct owner_id) from intermediate.int_event_signals "
            "        where customer_id = %(c)s and action_type = 'complaint')",
            {"c": moved_account_id},
        ).fetchone()
    # The moved account's customer belongs to its new owner, and both owners' figures changed. The day
    # rebuilt none of its contacts, yet its complaints' actions are now its new owner's.
    assert owner_now == new_owner
    assert (rebuilt, owners) == (0, [new_owner])
    for owner in (old_owner, new_owner, lead):
        assert _owner_kpis(fresh_db, owner) != kpis_before[owner], owner
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute(
            "select array_agg(queue order by queue) from ops.owner_queue where owner_id = %s", (lead,)
        ).fetchone()[0] == sorted(lead_queues)
    # The withdrawn note's sentiment and themes are gone.
    assert judged_before[0] == 1
    assert _comment_judgements(fresh_db, corrected_id) == (0, 0)
    # The delivery complaint now counts against the late order's partner (found through the order, not the
    # complaint, which the new day did not rewrite).
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute(
            "select order_id, delivery_partner from intermediate.int_delivery_complaints where interaction_id = %s",
            (complaint_id,),
        ).fetchone() == (late_order, late_partner)

    with psycopg.connect(fresh_db) as conn:
        contacts = conn.execute("select count(*) from marts.fct_contact").fetchone()[0]
        flags = dict(
            conn.execute(
                "select interaction_id, is_first_contact_resolution from marts.fct_contact "
                "where interaction_id = any(%s)",
                ([early_id, corrected_id, "INT99999901"],),
            ).fetchall()
        )
        outcome = conn.execute(
            "select outcome from marts.fct_contact where interaction_id = %s", (corrected_id,)
        ).fetchone()[0]
        late_repeats = dict(
            conn.execute(
                "select action_key, evidence from intermediate.int_event_signals where action_key = any(%s)",
                (["repeat_contact:INT99999901", "repeat_contact:INT99999902"],),
            ).fetchall()
        )
    # The incremental build saw the late contact and the correction, and re-judged the early contact.
    # The action signals judged each late contact a repeat of its early one: the second, nine days
    # after its early contact, only because they read the customer's contacts a repeat window back
    # from the first contact they recompute (fct_contact rebuilt nothing that far back).
    assert f"after contact {early_id} " in late_repeats["repeat_contact:INT99999901"]
    assert f"after contact {quiet_early_id} " in late_repeats["repeat_contact:INT99999902"]
    assert flags[early_id] is False
    assert outcome == "unresolved" and flags[corrected_id] is False
    assert "INT99999901" in flags
    assert contacts > len(before)

    # The CRM key map looked again only at the keys of the CRM rows the day published (its high-water
    # marks), and holds the keys a full refresh computes, beside those the CRM no longer has.
    compiled = next((tmp_path / "t" / "compiled").rglob("int_identity_crm_keys.sql")).read_text()
    assert "candidate_keys" in compiled
    assert _crm_keys(fresh_db)[("email", moved_email)] == (0, None)
    crm_keys_incremental = _crm_keys(fresh_db, gone=False)

    refresh = run_dbt(fresh_db, tmp_path / "t", "build", "--full-refresh")
    assert refresh.returncode == 0, refresh.stdout[-3000:]
    after_refresh = _tables(fresh_db)
    assert crm_keys_incremental == _crm_keys(fresh_db)

    assert after_incremental.keys() == after_refresh.keys()
    assert {f"intermediate.{t}" for t in INCREMENTAL} <= after_refresh.keys()
    for table in after_refresh:
        assert after_incremental[table] == after_refresh[table], f"{table} differs after an incremental build"
