"""Insight actions on a real demo build: each signal raises one owned, dated action, once; owners and the
CRM close them; cleared signals close theirs; marts.action_kpis counts the loop closing."""

import csv

import psycopg
import pytest

from insight_hub.insight.actions import (
    ActionError,
    close_action,
    import_writeback,
    publish_rules,
    sync_actions,
)
from tests.conftest import ROOT, run_dbt


@pytest.fixture(scope="module")
def synced(hub):
    """The demo hub, whose fixture ran the first action sync after the build."""
    url, tmp, _ = hub
    return url, tmp


def _count(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()[0]


def test_every_signal_raises_one_owned_dated_action_once(synced):
    url, _ = synced
    with psycopg.connect(url) as conn:
        by_type = dict(
            conn.execute("select action_type, count(*) from ops.insight_action group by 1").fetchall()
        )
        print(f"\nactions raised on the demo: {by_type}")
        # Counted straight from the marts, independently of int_action_signals.
        detractors = _count(
            conn,
            """select count(*) from marts.fct_survey_response
               where (survey_type = 'nps' and score <= 6) or (survey_type = 'csat' and score <= 2)""",
        )
        complaints = _count(conn, "select count(*) from marts.fct_contact where is_complaint")
        repeats = _count(
            conn,
            """select count(*) from marts.fct_contact as c
               where c.is_handled and c.customer_id is not null and exists (
                   select 1 from marts.fct_contact as p
                   where p.is_handled and p.customer_id = c.customer_id and p.reason = c.reason
                     and p.queued_at < c.queued_at and p.queued_at >= c.queued_at - interval '7 days')""",
        )
        assert detractors > 0 and complaints > 0 and repeats > 0
        assert by_type["detractor"] == detractors
        assert by_type["complaint"] == complaints
        assert by_type["repeat_contact"] == repeats
        # Every active signal has its action, and only those.
        assert (
            _count(
                conn,
                """select count(*) from intermediate.int_action_signals as s
               full join ops.insight_action as a using (action_key)
               where s.is_active is distinct from true or a.action_id is null""",
            )
            == 0
        )

        # Customer actions belong to the account's relationship owner, or the head of service (the
        # `service` function) when the customer has none.
        wrong_owner = _count(
            conn,
            """select count(*) from ops.insight_action as a
               join marts.customer_360 as c using (customer_id)
               where a.action_type in ('detractor', 'complaint', 'repeat_contact')
                 and a.owner_id <> coalesce(c.owner_id, 'U0001')""",
        )
        assert wrong_owner == 0
        assert _count(conn, "select count(distinct owner_id) from ops.insight_action") > 2
        # Due dates follow the charter's follow_up_days (examples/demo/charter.yaml).
        due_days = dict(
            conn.execute(
                "select action_type, min(due_at - signal_at)::text || '/' || max(due_at - signal_at)::text "
                "from ops.insight_action group by 1"
            ).fetchall()
        )
        assert due_days["complaint"] == "2 days/2 days"
        assert due_days["detractor"] == "3 days/3 days"

        # A rerun raises nothing new and closes nothing.
        again = sync_actions(conn)
        assert (again.raised, again.cleared) == (0, 0)
        assert _count(conn, "select count(*) from ops.insight_action") == sum(by_type.values())


def test_owner_and_crm_close_actions_and_action_kpis_count_it(synced, tmp_path):
    url, _ = synced
    with psycopg.connect(url) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "select action_id from ops.insight_action where action_type = 'complaint' and status = 'open' "
                "order by action_id limit 3"
            ).fetchall()
        ]
        close_action(conn, ids[0], "Called back; refund sent. Reach her on 07700 900123 or jo@example.com")
        with pytest.raises(ActionError, match=f"action {ids[0]} is already closed"):
            close_action(conn, ids[0], "again")
        with pytest.raises(ActionError, match="there is no action 999999"):
            close_action(conn, 999999, "nothing")
        row = conn.execute(
            "select status, closed_by, close_note, is_closed_in_time from marts.insight_action where action_id = %s",
            (ids[0],),
        ).fetchone()
        assert row[:2] == ("closed", "owner")
        assert "07700" not in row[2] and "jo@example.com" not in row[2]
        assert "[number]" in row[2] and "[e-mail]" in row[2]

        writeback = tmp_path / "crm_writeback.csv"
        with writeback.open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["action_id", "status", "note", "written_by"])
            out.writerow([ids[1], "Done", "customer called", "crm"])
            out.writerow([ids[2], "pending", "", "crm"])
            out.writerow([999999, "done", "", "crm"])
            out.writerow(["abc", "done", "", "crm"])
            out.writerow([ids[0], "done", "", "crm"])
        assert import_writeback(conn, writeback) == (5, 1, 4)
        problems = [
            r[0]
            for r in conn.execute("select problem from ops.action_writeback order by writeback_id").fetchall()
        ]
        assert problems == [
            None,
            "status 'pending' is not done or closed",
            "no action 999999",
            "line 5: action_id 'abc' is not a number",
            f"action {ids[0]} was already closed",
        ]
        assert conn.execute(
            "select status, closed_by from ops.insight_action where action_id = %s", (ids[1],)
        ).fetchone() == ("closed", "crm")

        # action_kpis sees both closures at once (it is a view), against what is still open.
        week, owner = conn.execute(
            "select date_trunc('week', signal_at at time zone 'Europe/London')::date, owner_id "
            "from ops.insight_action where action_id = %s",
            (ids[0],),
        ).fetchone()
        raised, closed = conn.execute(
            """select count(*), count(*) filter (where status = 'closed') from ops.insight_action
               where action_type = 'complaint' and owner_id = %s
                 and date_trunc('week', signal_at at time zone 'Europe/London')::date = %s""",
            (owner, week),
        ).fetchone()
        kpi = conn.execute(
            """select actions_raised, actions_closed, loop_closure_rate_pct from marts.action_kpis
               where action_type = 'complaint' and owner_id = %s and week_start = %s""",
            (owner, week),
        ).fetchone()
        assert kpi[:2] == (raised, closed) and closed >= 1
        assert float(kpi[2]) == round(100 * closed / raised, 2)


def test_a_valuable_customer_slipping_raises_an_action_that_clears_when_the_band_moves(synced):
    """Give a high-value customer a previous, healthier version in customer_health_history: the rebuilt
    signals raise a health_drop action; a newer version after it clears the action on the next sync."""
    url, tmp = synced
    with psycopg.connect(url) as conn:
        customer, band, value = conn.execute(
            """select customer_id, churn_risk_band, value_to_date from marts.customer_health_history
               where dbt_valid_to is null and churn_risk_band in ('medium', 'high') and value_to_date >= 400
               order by value_to_date desc limit 1"""
        ).fetchone()
        conn.execute(
            """insert into marts.customer_health_history
               select (h).* from (
                   select h from marts.customer_health_history as h
                   where customer_id = %s and dbt_valid_to is null) as t""",
            (customer,),
        )
        conn.execute(
            """with v as (
                   select ctid, row_number() over (order by ctid) as n from marts.customer_health_history
                   where customer_id = %s)
               update marts.customer_health_history as h
               set churn_risk_band = 'low', dbt_valid_to = h.dbt_valid_from,
                   dbt_valid_from = h.dbt_valid_from - interval '1 day', dbt_scd_id = h.dbt_scd_id || '-before'
               from v where h.ctid = v.ctid and v.n = 2""",
            (customer,),
        )
        conn.commit()
    rebuilt = run_dbt(url, tmp / "target", "build", "--select", "int_action_signals")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    with psycopg.connect(url) as conn:
        result = sync_actions(conn)
        action = conn.execute(
            "select action_id, evidence, status from ops.insight_action where action_type = 'health_drop' "
            "and customer_id = %s",
            (customer,),
        ).fetchone()
        assert result.raised == 1 and action[2] == "open"
        assert action[1].startswith(f"churn risk low -> {band}")
        # The band moves again (a newer current version): the signal is no longer active.
        conn.execute(
            """update marts.customer_health_history set dbt_valid_to = now()
               where customer_id = %s and dbt_valid_to is null""",
            (customer,),
        )
        conn.commit()
    rebuilt = run_dbt(url, tmp / "target", "build", "--select", "int_action_signals")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    with psycopg.connect(url) as conn:
        assert sync_actions(conn).cleared == 1
        assert conn.execute(
            "select status, closed_by, close_note from ops.insight_action where action_id = %s", (action[0],)
        ).fetchone() == ("closed", "signal_cleared", "the churn-risk band changed again")


def _repeats_within(conn, days: int) -> int:
    """Handled contacts with the same customer's previous handled contact about the same reason within
    `days`, counted straight from marts.fct_contact."""
    return _count(
        conn,
        """select count(*) from marts.fct_contact as c
           where c.is_handled and c.customer_id is not null and exists (
               select 1 from marts.fct_contact as p
               where p.is_handled and p.customer_id = c.customer_id and p.reason = c.reason
                 and p.queued_at < c.queued_at and p.queued_at >= c.queued_at - %s * interval '1 day')""",
        (days,),
    )


def test_a_changed_rule_recomputes_every_event_signal(synced, tmp_path):
    """int_event_signals recomputes only what the facts changed, except when the rules did: a shorter
    repeat window (and a new function lead) reaches every signal in the next ordinary build, and the
    rules put back bring back what was there."""
    url, tmp = synced
    rules_file = ROOT / "examples" / "demo" / "actions.yaml"
    charter_file = ROOT / "examples" / "demo" / "charter.yaml"
    changed = tmp_path / "actions.yaml"
    changed.write_text(
        rules_file.read_text()
        .replace("within_days: 7", "within_days: 2")
        .replace("service: U0001", "service: U0009")
    )
    signals = """select action_type, count(*), count(*) filter (where owner_id = 'U0009'), count(distinct rules_fingerprint)
                 from intermediate.int_event_signals group by 1 order by 1"""

    def rebuilt(rules) -> dict:
        with psycopg.connect(url, autocommit=True) as conn:
            publish_rules(conn, rules, charter_file)
        out = run_dbt(url, tmp / "target", "build", "--select", "int_event_signals")
        assert out.returncode == 0, out.stdout[-3000:]
        with psycopg.connect(url) as conn:
            return {row[0]: row[1:] for row in conn.execute(signals).fetchall()}

    with psycopg.connect(url) as conn:
        within_7, within_2 = _repeats_within(conn, 7), _repeats_within(conn, 2)
        without_owner = _count(
            conn,
            """select count(*) from marts.fct_contact as f left join marts.dim_customer as c using (customer_id)
               where f.is_complaint and c.owner_id is null""",
        )
    assert within_2 < within_7
    try:
        after = rebuilt(changed)
        assert after["repeat_contact"][0] == within_2
        # Complaints of customers without a relationship owner go to the new head of service.
        assert after["complaint"][1] == without_owner > 0
        assert all(fingerprints == 1 for *_, fingerprints in after.values())
    finally:
        restored = rebuilt(rules_file)
    assert restored["repeat_contact"][:2] == (within_7, 0)
    assert restored["complaint"][1] == 0
