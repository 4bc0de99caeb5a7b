"""int_customer_lifetime counts each customer's last 30, 90 and 180 days for customer_360: after new
days of data, an incremental build recomputes the customers whose figures the moving as-of date
changed, besides those the data touched, and nobody else.

Half a year of demo history is built; three more days land, which move the as-of date three days, so
contacts leave the 30-day window and orders leave the last 90 days and the 180 days. The incremental
build must then hold exactly what a full refresh computes. So must it after the as-of date moved ten
days ahead (a contact dated wrong), back (its correction) and five days on.
"""

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.demo.landing import land_history_and_last_day
from insight_hub.ingest.runner import load_all_entities
from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import make_settings, run_dbt
from tests.demo_calls import moved_to, read_calls, write_calls

pytestmark = pytest.mark.integration

# The lifetime figures; its bookkeeping (built_at, window_end_date) says when a row was counted, not
# what it holds.
LIFETIME = (
    "customer_id, fact_rows, value_to_date, orders, contacts, last_contact_date, last_order_date, "
    "revenue_last_90_days, revenue_previous_90_days, complaints_last_30_days, repeat_contacts_last_30_days"
)
BUILD = ("build", "--select", "+customer_360", "--indirect-selection", "cautious")


def _state(url: str) -> tuple[list[tuple], list[tuple]]:
    with psycopg.connect(url) as conn:
        lifetime = conn.execute(
            f"select {LIFETIME} from intermediate.int_customer_lifetime order by 1"
        ).fetchall()
        customers = conn.execute("select * from marts.customer_360 order by customer_id").fetchall()
    return lifetime, customers


def _crossing(url: str, earlier: str, later: str) -> dict[str, int]:
    """The contacts and orders on the days that left each window when the as-of date moved."""
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "select 'contacts_30', count(*) from marts.fct_contact "
                "where contact_date > %(e)s::date - 30 and contact_date <= %(l)s::date - 30 "
                "union all select 'orders_90', count(*) from marts.fct_order "
                "where order_date > %(e)s::date - 90 and order_date <= %(l)s::date - 90 "
                "union all select 'orders_180', count(*) from marts.fct_order "
                "where order_date > %(e)s::date - 180 and order_date <= %(l)s::date - 180",
                {"e": earlier, "l": later},
            ).fetchall()
        )


def _shifted_crossing(url: str, earlier: str, later: str, built: datetime) -> dict[str, int]:
    """What crossed a window edge for the customers no fact was written for since `built`: the ones the
    incremental build shifts (their window counts less what left them) instead of recomputing."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """with written as (
                   select customer_id from marts.fct_contact where built_at > %(b)s
                   union select customer_id from marts.fct_order where built_at > %(b)s
                   union select customer_id from marts.fct_survey_response where built_at > %(b)s
                   union select previous_customer_id from intermediate.int_customer_records_resolved
                   where built_at > %(b)s
               ),
               contacts as (
                   select * from marts.fct_contact
                   where contact_date > %(e)s::date - 30 and contact_date <= %(l)s::date - 30
                     and customer_id not in (select customer_id from written where customer_id is not null)
               ),
               orders as (
                   select * from marts.fct_order
                   where customer_id not in (select customer_id from written where customer_id is not null)
                     and net_revenue > 0
               )
               select
                   (select count(*) from contacts where is_complaint),
                   (select count(*) from contacts where is_followed_by_repeat),
                   (select count(*) from orders
                    where order_date > %(e)s::date - 90 and order_date <= %(l)s::date - 90),
                   (select count(*) from orders
                    where order_date > %(e)s::date - 180 and order_date <= %(l)s::date - 180)""",
            {"e": earlier, "l": later, "b": built},
        ).fetchone()
    return dict(zip(("complaints_30", "repeats_30", "revenue_90", "revenue_180"), row, strict=True))


def _history_built(url: str, tmp_path: Path, last_days: int):
    """Half a year of demo data but its last `last_days` days loaded and fully built. Returns the landing
    folder, the folder holding those last days, and the settings."""
    generate(tmp_path / "gen", DemoConfig(customers=400, days=190, seed=23))
    landing, held_back = tmp_path / "landing", tmp_path / "last_days"
    land_history_and_last_day(tmp_path / "gen", landing, held_back, merge=True, days=last_days)
    settings = make_settings(
        tmp_path / "home", INSIGHT_HUB_LANDING_DIR=str(landing), INSIGHT_HUB_DATA_DOCS=False
    )
    load_all_entities(url, settings=settings)
    prepare_for_dbt(url, settings)
    full = run_dbt(url, tmp_path / "t", *BUILD, "--full-refresh")
    assert full.returncode == 0, full.stdout[-3000:]
    return landing, held_back, settings


def test_the_moving_windows_are_recomputed_as_a_full_refresh_would(fresh_db, tmp_path):
    landing, last_days, settings = _history_built(fresh_db, tmp_path, last_days=3)
    with psycopg.connect(fresh_db) as conn:
        earlier = conn.execute("select max(as_of_date)::text from marts.customer_360").fetchone()[0]
        customers = conn.execute("select count(*) from intermediate.int_customer_lifetime").fetchone()[0]
        built = conn.execute("select max(built_at) from intermediate.int_customer_lifetime").fetchone()[0]

    shutil.copytree(last_days, landing, dirs_exist_ok=True)
    load_all_entities(fresh_db, settings=settings)
    prepare_for_dbt(fresh_db, settings)
    incremental = run_dbt(fresh_db, tmp_path / "t", *BUILD)
    assert incremental.returncode == 0, incremental.stdout[-3000:]
    with psycopg.connect(fresh_db) as conn:
        later = conn.execute("select max(as_of_date)::text from marts.customer_360").fetchone()[0]
        rewritten = conn.execute(
            "select count(*) from intermediate.int_customer_lifetime "
            "where built_at = (select max(built_at) from intermediate.int_customer_lifetime)"
        ).fetchone()[0]
    after_incremental = _state(fresh_db)

    # The as-of date moved three days, and each window lost the facts of those days.
    assert (later > earlier) and all(n > 0 for n in _crossing(fresh_db, earlier, later).values())
    # Among them, customers with no new fact: complaints, repeats and revenue left their windows.
    assert all(n > 0 for n in _shifted_crossing(fresh_db, earlier, later, built).values()), _shifted_crossing(
        fresh_db, earlier, later, built
    )
    # The incremental build took its windows from the stored as-of date, and rewrote some customers only.
    compiled = next((tmp_path / "t" / "compiled").rglob("int_customer_lifetime.sql")).read_text()
    assert f"'{later}'::date" in compiled and f"'{earlier}'::date" in compiled
    assert 0 < rewritten < customers

    refresh = run_dbt(fresh_db, tmp_path / "t", *BUILD, "--full-refresh")
    assert refresh.returncode == 0, refresh.stdout[-3000:]
    lifetime, customers = _state(fresh_db)
    assert after_incremental[0] == lifetime
    assert after_incremental[1] == customers


def _as_of(url: str) -> tuple[date, date]:
    """(customer_360's as-of date, the as-of date int_customer_lifetime's newest build counted to)."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select (select max(as_of_date) from marts.customer_360), "
            "(select max(window_end_date) from intermediate.int_customer_lifetime "
            " where built_at = (select max(built_at) from intermediate.int_customer_lifetime))"
        ).fetchone()


def _window_end(url: str, customer: str) -> date:
    """The as-of date `customer`'s row in int_customer_lifetime was counted to."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select window_end_date from intermediate.int_customer_lifetime where customer_id = %s",
            (customer,),
        ).fetchone()[0]


def test_the_as_of_date_moving_back_and_forward_again(fresh_db, tmp_path):
    """A contact dated ten days after the newest day moves the as-of date forward, its correction moves it
    back, and a contact five days on moves it forward again: the windows then count from the date the
    stored rows were counted to (the newest day), not from the ten days on that rows of a customer the
    first build rewrote, and nothing since, still carry."""
    landing, _, settings = _history_built(fresh_db, tmp_path, last_days=1)
    newest, _ = _as_of(fresh_db)
    calls = {row["Call ID"]: row for row in read_calls(landing)}
    with psycopg.connect(fresh_db) as conn:
        # A customer the first build rewrites (a late copy of one of their contacts) and the second does
        # not: no contact or order of theirs is on a day a window edge passes over when the as-of date
        # moves back ten days.
        quiet, quiet_call = conn.execute(
            """select c.customer_id, min(c.interaction_id) from marts.fct_contact as c
               where c.customer_id is not null
                 and not exists (select 1 from marts.fct_contact as o where o.customer_id = c.customer_id
                                 and o.contact_date > %(d)s::date - 30 and o.contact_date <= %(d)s::date - 20)
                 and not exists (select 1 from marts.fct_order as o where o.customer_id = c.customer_id
                                 and (o.order_date > %(d)s::date - 90 and o.order_date <= %(d)s::date - 80
                                      or o.order_date > %(d)s::date - 180 and o.order_date <= %(d)s::date - 170))
               group by c.customer_id order by c.customer_id limit 1""",
            {"d": newest},
        ).fetchone()
        other_call = conn.execute(
            "select min(interaction_id) from marts.fct_contact where customer_id is distinct from %s",
            (quiet,),
        ).fetchone()[0]

    def build() -> None:
        load_all_entities(fresh_db, settings=settings)
        prepare_for_dbt(fresh_db, settings)
        result = run_dbt(fresh_db, tmp_path / "t", *BUILD)
        assert result.returncode == 0, result.stdout[-3000:]

    ahead = newest + timedelta(days=10)
    write_calls(
        landing / "contact_centre" / "calls_zz_1.csv",
        [
            moved_to(calls[other_call], "INT99999911", ahead),
            moved_to(calls[quiet_call], "INT99999912", newest - timedelta(days=70)),
        ],
    )
    build()
    assert _as_of(fresh_db) == (ahead, ahead)
    assert _window_end(fresh_db, quiet) == ahead

    # The contact ten days ahead was a typing error: corrected, it is on the newest day.
    write_calls(
        landing / "contact_centre" / "calls_zz_2.csv", [moved_to(calls[other_call], "INT99999911", newest)]
    )
    build()
    assert _as_of(fresh_db) == (newest, newest)
    assert _window_end(fresh_db, quiet) == ahead

    # Five days on: the windows move five days from the newest day.
    later = newest + timedelta(days=5)
    write_calls(
        landing / "contact_centre" / "calls_zz_3.csv", [moved_to(calls[other_call], "INT99999913", later)]
    )
    build()
    assert _as_of(fresh_db) == (later, later)
    compiled = next((tmp_path / "t" / "compiled").rglob("int_customer_lifetime.sql")).read_text()
    assert f"'{newest}'::date" in compiled and f"'{ahead}'::date" not in compiled
    assert all(n > 0 for n in _crossing(fresh_db, str(newest), str(later)).values())
    after_incremental = _state(fresh_db)

    refresh = run_dbt(fresh_db, tmp_path / "t", *BUILD, "--full-refresh")
    assert refresh.returncode == 0, refresh.stdout[-3000:]
    lifetime, customers = _state(fresh_db)
    assert after_incremental[0] == lifetime
    assert after_incremental[1] == customers
