"""The same data interval run again, three times, as clearing its DAG runs does: the source loads find
their files published and skip, and the transform builds again. Every raw, intermediate and mart table
must hold exactly what it held after the first run, row for row (a checksum of each table's rows, in
any order, leaving out only the columns that record when a build ran)."""

import psycopg
import pytest

from insight_hub.demo import DemoConfig, generate
from insight_hub.ingest.runner import load_all_entities
from insight_hub.insight.actions import sync_actions
from insight_hub.warehouse.prepare import prepare_for_dbt
from tests.conftest import make_settings, run_dbt

pytestmark = pytest.mark.integration

SCHEMAS = ["raw", "quarantine", "intermediate", "marts", "marts_pii"]
# When a build wrote a row, not what it says: these change with every build by design.
BUILD_TIME_COLUMNS = ["built_at"]


def _checksums(url) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            """select table_schema, table_name from information_schema.tables
               where table_schema = any(%s) order by 1, 2""",
            (SCHEMAS,),
        ).fetchall()
        sums = {}
        for schema, table in tables:
            sums[f"{schema}.{table}"] = conn.execute(
                f"""select count(*), md5(coalesce(string_agg(h, '' order by h), ''))
                    from (select md5((to_jsonb(t) - %s::text[])::text) as h from "{schema}"."{table}" t) rows""",
                (BUILD_TIME_COLUMNS,),
            ).fetchone()
        actions = conn.execute(
            "select count(*), count(distinct action_key) from ops.insight_action"
        ).fetchone()
        batches = conn.execute("select status, count(*) from ops.load_batch group by 1 order by 1").fetchall()
    return sums | {"ops.insight_action": actions, "ops.load_batch": tuple(batches)}


def _run_interval(url, settings, target) -> None:
    load_all_entities(url, settings=settings)
    prepare_for_dbt(url, settings)
    build = run_dbt(url, target, "build")
    assert build.returncode == 0, build.stdout[-3000:]
    with psycopg.connect(url) as conn:
        sync_actions(conn)


def test_three_reruns_of_an_interval_change_no_table(fresh_db, tmp_path):
    url = fresh_db
    generate(tmp_path / "landing", DemoConfig(customers=150, days=10, seed=3))
    # A day of this small demo has a handful of orders, so its one injected bad row can pass the 10 %
    # reject limit; the limit is raised so that every day publishes and the rerun has everything to repeat.
    run_settings = make_settings(
        tmp_path / "home",
        INSIGHT_HUB_LANDING_DIR=str(tmp_path / "landing"),
        INSIGHT_HUB_DATA_DOCS=False,
        INSIGHT_HUB_MAX_REJECT_SHARE=0.5,
    )
    _run_interval(url, run_settings, tmp_path / "target")
    first = _checksums(url)
    assert first["marts.fct_contact"][0] > 0 and first["ops.insight_action"][0] > 0
    assert len([t for t in first if t.startswith("marts.")]) >= 19
    for attempt in range(3):
        _run_interval(url, run_settings, tmp_path / "target")
        changed = {t: (first.get(t), s) for t, s in _checksums(url).items() if first.get(t) != s}
        assert changed == {}, f"rerun {attempt + 1} changed {changed}"
