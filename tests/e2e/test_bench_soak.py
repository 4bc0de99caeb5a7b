"""`make bench-soak` works: the soak, run for two days on a tiny history, records what it says it records.

No figure here is a target (timings and memory belong to the benchmark). What is checked is that each
day really loaded that day's files and built, and that the product left no connection open on the
warehouse after a day (a connection kept per validated batch was the first leak the soak found).
"""

import json
import os
import subprocess
import sys

import pytest

from insight_hub.warehouse import embedded_server
from tests.conftest import ROOT, make_settings, server_home

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def soak_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("soak")
    with server_home("soak") as home:
        env = {**os.environ, "INSIGHT_HUB_HOME": str(home), "INSIGHT_HUB_PG_PORT": "0"}
        env.pop("WAREHOUSE_URL", None)
        try:
            proc = subprocess.run(
                [sys.executable, str(ROOT / "bench" / "soak.py"), "--scale", "0.00025", "--days", "2",
                 "--history-days", "5", "--results-dir", str(out / "results"), "--bench-dir", str(out / "work")],
                capture_output=True, text=True, cwd=ROOT, env=env,
            )  # fmt: skip
        finally:
            embedded_server(make_settings(home)).stop()
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return json.loads((out / "results" / "soak.json").read_text())["runs"][-1], proc.stdout


def test_each_day_loads_its_own_files_and_builds(soak_run):
    run, stdout = soak_run
    assert run["customers"] == 50
    assert run["history_days"] == 5
    days = run["runs"]
    assert len(days) == run["days"] >= 2
    assert run["history"]["rows"] > sum(d["rows"] for d in days) > 0
    # Every manager's extract for the history's week went through the soak's SMTP server.
    assert run["history"]["extracts_sent"] > 0
    for day in days:
        assert day["rows"] > 0, day
        assert day["build_seconds"] > 0 and day["extracts_ready"], day
        parts = day["load_seconds"] + day["build_seconds"] + day["insight_seconds"]
        assert day["seconds"] >= parts - 0.15, day  # each figure is rounded to 0.1 s
        assert day["process_rss_mb"] > 50 and day["dbt_peak_mb"] > 50, day
        # Great Expectations' imports alone hold more (dbt runs in a process of its own).
        assert day["python_objects"] > 10_000, day
        assert day["pymalloc_blocks"] > day["python_objects"], day
        # glibc's allocator (this machine's C library) has handed out more than a few MB: libpq, psycopg,
        # the parsed files' buffers.
        assert day["malloc_in_use_mb"] > 1, day
        assert day["day"] in stdout


def test_no_connection_is_left_open_after_a_day(soak_run):
    run, _ = soak_run
    assert [d["soak_db_connections"] for d in run["runs"]] == [0] * len(run["runs"])
    assert run["history"]["soak_db_connections"] == 0
    assert run["summary"]["server_connections"]["max"] == 0
