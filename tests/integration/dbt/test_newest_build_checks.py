"""Two things a daily build no longer does to every row of a large incremental table, and what it does
instead (macros/data_tests.sql, macros/incremental.sql):

- data tests marked `where: __newest_build__` check the rows the table's newest build wrote: a duplicate
  among them fails the build's test, one against an older row does not, and `test_every_row` finds both;
- an incremental build analyses its table only when it changed a row of it;
- an index an incremental model declares and its table lacks is created by the next ordinary build.
"""

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.runner import load_all_entities
from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import make_settings, run_dbt

pytestmark = pytest.mark.integration

UNIQUE_DAY_ROW = "unique_combination_contact_centre_daily_contact_date__queue__channel__agent_id"


def _duplicate_a_day_row(conn, built_at_sql: str) -> None:
    """A second copy of one contact_centre_daily row (the first by its key), written at `built_at_sql`."""
    conn.execute(
        f"""insert into marts.contact_centre_daily
            select (jsonb_populate_record(
                null::marts.contact_centre_daily,
                to_jsonb(d) || jsonb_build_object('built_at', {built_at_sql})
            )).*
            from marts.contact_centre_daily as d
            order by contact_date, queue, channel, agent_id
            limit 1"""
    )


def _remove_one_copy(conn) -> None:
    conn.execute(
        """delete from marts.contact_centre_daily where ctid = (
               select max(ctid) from marts.contact_centre_daily
               where (contact_date, queue, channel, agent_id) = (
                   select contact_date, queue, channel, agent_id from marts.contact_centre_daily
                   order by contact_date, queue, channel, agent_id limit 1))"""
    )


def _test_days(url, target, *extra):
    return run_dbt(url, target, "test", "--select", "contact_centre_daily", *extra)


def _analyze_count(conn, table: str) -> int:
    return conn.execute(
        "select analyze_count from pg_stat_user_tables where schemaname || '.' || relname = %s", (table,)
    ).fetchone()[0]


def _indexed_columns(conn, table: str) -> list[str]:
    """Each index of `table` as its columns, in order (one string per index)."""
    return sorted(
        row[0]
        for row in conn.execute(
            """select string_agg(a.attname, ',' order by k.position)
               from pg_index as i
               cross join lateral unnest(i.indkey) with ordinality as k (attnum, position)
               inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
               where i.indrelid = %s::regclass
               group by i.indexrelid""",
            (table,),
        )
    )


def _drop_index_on(conn, table: str, column: str) -> None:
    schema, name = table.split(".")
    (index,) = conn.execute(
        "select indexname from pg_indexes where schemaname = %s and tablename = %s and indexdef like %s",
        (schema, name, f"%({column})"),
    ).fetchone()
    conn.execute(f'drop index {schema}."{index}"')


_ONE_CUSTOMER = "(select min(customer_id) from marts.customer_360)"
_CHAIN_VIOLATIONS = [
    (
        f"update marts.customer_360 set health_score = 100.1 where customer_id = {_ONE_CUSTOMER}",
        psycopg.errors.CheckViolation,
        "customer_360_health_score_0_to_100",
    ),
    (
        f"update marts.customer_360 set churn_risk_band = 'unknown' where customer_id = {_ONE_CUSTOMER}",
        psycopg.errors.CheckViolation,
        "customer_360_churn_risk_band_known",
    ),
    (
        f"insert into marts.customer_360 select * from marts.customer_360 where customer_id = {_ONE_CUSTOMER}",
        psycopg.errors.UniqueViolation,
        "customer_id",
    ),
    (
        f"update marts.customer_360 set customer_id = null where customer_id = {_ONE_CUSTOMER}",
        psycopg.errors.NotNullViolation,
        "customer_id",
    ),
    (
        "update marts.fct_contact set interaction_id = null "
        "where interaction_id = (select min(interaction_id) from marts.fct_contact)",
        psycopg.errors.NotNullViolation,
        "interaction_id",
    ),
]


def test_newest_build_checks_and_analyze_rule(fresh_db, tmp_path):
    url = fresh_db
    generate(tmp_path / "landing", DemoConfig(customers=120, days=8, seed=5))
    settings = make_settings(
        tmp_path / "home", INSIGHT_HUB_LANDING_DIR=str(tmp_path / "landing"), INSIGHT_HUB_DATA_DOCS=False
    )
    load_all_entities(url, settings=settings)
    prepare_for_dbt(url, settings)
    target = tmp_path / "target"
    build = run_dbt(url, target, "build")
    assert build.returncode == 0, build.stdout[-3000:]

    # The first build wrote and analysed every incremental table; a build with nothing new changes no
    # row of fct_contact, so it is not analysed again, while a table model is new and analysed each time.
    with psycopg.connect(url) as conn:
        assert _analyze_count(conn, "marts.fct_contact") == 1
        contacts_before = conn.execute("select count(*) from marts.fct_contact").fetchone()[0]
    again = run_dbt(url, target, "build", "--select", "fct_contact", "customer_360")
    assert again.returncode == 0, again.stdout[-3000:]
    with psycopg.connect(url) as conn:
        assert _analyze_count(conn, "marts.fct_contact") == 1
        assert _analyze_count(conn, "marts.customer_360") == 1
        assert conn.execute("select count(*) from marts.fct_contact").fetchone()[0] == contacts_before
    # What replaced the data tests on the daily chain: customer_360, built again, and fct_contact refuse
    # a write their tests would have failed, naming the rule.
    for statement, error, named in _CHAIN_VIOLATIONS:
        with psycopg.connect(url) as conn, pytest.raises(error, match=named):
            conn.execute(statement)

    # fct_contact's day index dropped, as in a warehouse built before the model declared it: the next
    # ordinary build creates it again, and a build after that creates no second copy.
    with psycopg.connect(url) as conn:
        declared = _indexed_columns(conn, "marts.fct_contact")
        assert "contact_date" in declared
        _drop_index_on(conn, "marts.fct_contact", "contact_date")
        assert "contact_date" not in _indexed_columns(conn, "marts.fct_contact")
    for _ in range(2):
        rebuilt = run_dbt(url, target, "build", "--select", "fct_contact")
        assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
        with psycopg.connect(url) as conn:
            assert _indexed_columns(conn, "marts.fct_contact") == declared

    assert _test_days(url, target).returncode == 0

    # A duplicate written by the newest build: the build's own test catches it.
    with psycopg.connect(url) as conn:
        _duplicate_a_day_row(conn, "(select max(built_at) from marts.contact_centre_daily)")
    failed = _test_days(url, target)
    assert failed.returncode != 0
    assert f"Failure in test {UNIQUE_DAY_ROW}" in failed.stdout

    # The same duplicate dated before the newest build: out of the daily check's reach, found by the audit.
    with psycopg.connect(url) as conn:
        _remove_one_copy(conn)
        _duplicate_a_day_row(
            conn, "(select max(built_at) - interval '1 day' from marts.contact_centre_daily)"
        )
    assert _test_days(url, target).returncode == 0
    audit = _test_days(url, target, "--vars", "{test_every_row: true}")
    assert audit.returncode != 0
    assert f"Failure in test {UNIQUE_DAY_ROW}" in audit.stdout
