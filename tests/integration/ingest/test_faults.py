"""A load killed mid-COPY leaves nothing visible; two attempts at once publish once; a warehouse that
restarts or crashes between a load's steps fails them clearly, and the retries load the batch once."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from insight_hub.ingest.load import StageLost, load_file, publish_batch, stage_batch, validate_batch
from insight_hub.sources.registry import Registry
from insight_hub.warehouse import embedded_server
from tests.conftest import ROOT, make_settings, server_home

pytestmark = pytest.mark.integration

REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")
SUITE = ROOT / "expectations" / "agent.json"

LOAD_SCRIPT = """
import sys
from pathlib import Path
from insight_hub.ingest.load import load_file
from insight_hub.sources.registry import Registry
_, mapping = Registry(Path(sys.argv[3])).entity("agent")
load_file(sys.argv[1], "contact_centre", Path(sys.argv[2]), mapping, Path(sys.argv[4]))
"""


def _big_agents_file(path, rows):
    with path.open("w") as fh:
        fh.write("agent_id,name,team,site,cost_per_hour\n")
        for i in range(rows):
            fh.write(f"A{i},name {i},team,site,{20 + i % 7}.50\n")


def test_killed_mid_copy_leaves_nothing_and_the_rerun_loads_once(fresh_db, tmp_path):
    path = tmp_path / "agents.csv"
    _big_agents_file(path, 600_000)
    proc = subprocess.Popen(
        [sys.executable, "-c", LOAD_SCRIPT, fresh_db, str(path), str(REGISTRY.path), str(SUITE)],
    )
    copying = False
    deadline = time.monotonic() + 120
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        while time.monotonic() < deadline and proc.poll() is None:
            # COPY is under way once the staging table exists and the backend is running COPY.
            copying = bool(
                conn.execute(
                    "select 1 from pg_stat_activity where query ilike 'copy stage.%%' and state = 'active'"
                ).fetchone()
            )
            if copying:
                break
            time.sleep(0.02)
    assert copying, "the load finished before it could be killed; use a larger file"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.agent").fetchone()[0] == 0
        assert conn.execute("select status from ops.load_batch").fetchall() == [("running",)]

    result = load_file(fresh_db, "contact_centre", path, REGISTRY.entity("agent")[1], SUITE)
    assert (result.status, result.rows_loaded) == ("published", 600_000)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*), count(distinct agent_id) from raw.agent").fetchone() == (
            600_000,
            600_000,
        )
        statuses = conn.execute("select status from ops.load_batch order by batch_id").fetchall()
        leftovers = conn.execute("select count(*) from pg_tables where schemaname = 'stage'").fetchone()[0]
    assert statuses == [("failed",), ("published",)]
    assert leftovers == 0


def test_two_attempts_at_once_publish_the_batch_once(fresh_db, tmp_path):
    path = tmp_path / "agents.csv"
    _big_agents_file(path, 50_000)
    mapping = REGISTRY.entity("agent")[1]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda _: load_file(fresh_db, "contact_centre", path, mapping, SUITE), range(2))
        )
    assert sorted(r.status for r in results) == ["published", "skipped"]
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.agent").fetchone()[0] == 50_000
        assert (
            conn.execute("select count(*) from ops.load_batch where status = 'published'").fetchone()[0] == 1
        )


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
def test_a_warehouse_restart_between_steps_fails_them_clearly_and_the_retries_load_once(tmp_path, shutdown):
    """Stage, then the warehouse goes down (a clean restart, or a crash): validating fails naming the
    connection while it is down; once it is back, a clean restart resumes where the batch was, and after a
    crash (which empties the unlogged stage tables) the batch fails as lost and the next attempt stages the
    file again. Either way the rows are published exactly once."""
    path = tmp_path / "agents.csv"
    _big_agents_file(path, 5_000)
    _, mapping = REGISTRY.entity("agent")
    with server_home("restart") as home:
        server = embedded_server(make_settings(home))
        server.start()
        try:
            server.ensure_database("insight_hub")
            url = server.url("insight_hub")
            staged = stage_batch(url, "contact_centre", path, mapping)
            server.stop(mode=shutdown)
            with pytest.raises(psycopg.OperationalError, match="Connection refused|connection failed"):
                validate_batch(url, staged.batch_id, SUITE)
            server.start()
            if shutdown == "fast":
                validate_batch(url, staged.batch_id, SUITE)
                assert publish_batch(url, staged.batch_id).status == "published"
            else:
                with pytest.raises(StageLost, match="stage tables lost since staging"):
                    validate_batch(url, staged.batch_id, SUITE)
                assert load_file(url, "contact_centre", path, mapping, SUITE).status == "published"
            again = load_file(url, "contact_centre", path, mapping, SUITE)
            with psycopg.connect(url) as conn:
                rows = conn.execute("select count(*), count(distinct agent_id) from raw.agent").fetchone()
                batches = conn.execute(
                    "select status, rows_loaded from ops.load_batch order by batch_id"
                ).fetchall()
        finally:
            server.stop()
    assert again.status == "skipped"
    assert rows == (5_000, 5_000)
    expected = [("published", 5_000)] if shutdown == "fast" else [("failed", None), ("published", 5_000)]
    assert batches == expected
