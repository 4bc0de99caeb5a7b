"""`make bench` works: the pipeline benchmark, run once at a tiny scale, through Airflow.

No figure here is a target (timings belong to the benchmark, not to the tests); what is checked is that
the benchmark measured what it says it measured: every row of the files it generated was read by the
product and copied by the floor, each stage has a time and a peak, and the ratios are the quotients of
the figures beside them.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


class BenchRun(NamedTuple):
    run: dict  # the run appended to pipeline.json
    summary: str  # pipeline.md
    stdout: str
    work: Path  # the benchmark's --bench-dir


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results = out / "results"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pipeline.py"), "--scale", "0.002",
         "--results-dir", str(results), "--bench-dir", str(out / "work")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    run = json.loads((results / "pipeline.json").read_text())["runs"][-1]
    return BenchRun(run, (results / "pipeline.md").read_text(), proc.stdout, out / "work")


def test_every_row_is_read_by_the_product_and_copied_by_the_floor(bench_run):
    run = bench_run.run
    (size,) = run["sizes"]
    full, incremental = size["full"], size["incremental"]
    assert size["customers"] == 200
    assert size["history_rows_in_files"] > 1000
    assert full["rows_read"] == size["history_rows_in_files"]
    assert full["rows_read"] == full["rows_loaded"] + full["rows_quarantined"]
    assert full["rows_quarantined"] > 0  # the demo injects invalid rows
    assert incremental["rows_read"] == size["day_rows_in_files"] > 0
    assert size["floor"]["rows"] == size["history_rows_in_files"]


def test_each_stage_has_a_time_a_rate_and_a_peak(bench_run):
    run = bench_run.run
    for key in ("full", "incremental"):
        result = run["sizes"][0][key]
        for name, stage in result["stages"].items():
            assert stage["seconds"] > 0, (key, name)
            assert 20 < stage["peak_mb"] <= result["peak_mb"], (key, name)
        assert result["load_seconds"] == pytest.approx(
            sum(result["stages"][s]["seconds"] for s in ("extract+stage", "validate", "publish")), abs=0.11
        )
        assert result["wall_seconds"] > sum(s["seconds"] for s in result["stages"].values())
        assert result["emails_sent"] >= result["extracts_written"]
        assert result["database_mb"] > 0
    # Every manager's extract is built and sent once per report week: the day's run builds none of them
    # again, unless its day is a Sunday and so completes a new week.
    full, incremental = run["sizes"][0]["full"], run["sizes"][0]["incremental"]
    assert full["extracts_written"] > 0
    assert incremental["extracts_written"] in (0, full["extracts_written"])


def test_the_ratios_are_the_figures_beside_them(bench_run):
    run, summary, stdout = bench_run.run, bench_run.summary, bench_run.stdout
    size = run["sizes"][0]
    full, floor, pandas, ratios = size["full"], size["floor"], size["pandas"], size["ratios"]
    assert ratios["load_vs_copy"] == pytest.approx(full["load_seconds"] / floor["copy_seconds"], rel=0.01)
    assert ratios["load_vs_pandas"] == pytest.approx(full["load_seconds"] / pandas["seconds"], rel=0.01)
    product = full["load_seconds"] + full["stages"]["dbt build"]["seconds"]
    assert ratios["load_and_build_vs_floor"] == pytest.approx(
        product / (floor["copy_seconds"] + floor["daily_sql_seconds"]), rel=0.01
    )
    # One size: no growth exponent can be fitted, and none is claimed.
    assert run["growth"]["full_wall_exponent"] is None
    assert "| dbt build |" in summary and f"{ratios['load_vs_copy']}x (load)" in summary
    assert summary in stdout


def test_the_benchmark_stops_the_server_it_started(bench_run):
    """The benchmark's embedded PostgreSQL is its own: none is left running once it has reported."""
    from insight_hub.warehouse.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(bench_run.work / "pipeline" / "pg")
    assert server.initialised
    assert not server.status().running
