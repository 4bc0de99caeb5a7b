"""`insight-hub mapping check` previews a load through a mapping and publishes nothing."""

import os
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _check(url, path, home):
    env = {**os.environ, "WAREHOUSE_URL": url, "INSIGHT_HUB_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "insight_hub.cli", "mapping", "check", str(path),
         "--mapping", str(ROOT / "examples" / "demo" / "mappings" / "agent.yaml")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_preview_shows_what_would_load_and_why_rows_would_not(fresh_db, tmp_path):
    path = tmp_path / "agents.csv"
    path.write_text("agent_id,name,team,site,cost_per_hour\nA1,Ann,t,s,20\nA2,Bob,t,s,-3\n")
    out = _check(fresh_db, path, tmp_path / "home")
    assert "agents.csv as agent: 2 rows read, 1 would load, 1 would be quarantined" in out.stdout
    assert "record 2: cost_per_hour is negative" in out.stdout
    # Half the rows are bad: above the 10 % limit, so a real load would be rejected, and the exit says so.
    assert "the batch would be rejected: 1 of 2 rows failed row checks" in out.stderr
    assert out.returncode != 0
    with psycopg.connect(fresh_db) as conn:
        published = conn.execute("select count(*) from ops.load_batch").fetchone()[0]
        scratch = conn.execute("select count(*) from pg_tables where schemaname = 'stage'").fetchone()[0]
    assert (published, scratch) == (0, 0)
