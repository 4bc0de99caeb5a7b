"""Extracts benchmark: build the first N managers' extracts (e-mail, charts, workbook) against the
warehouse `make bench` left under .local/bench/pipeline, in one process and then with each worker count
asked for, and report the time per extract. Nothing is sent; each extract is written to a temporary
outbox, as the insight task writes it.

    make bench SCALE=1                      # once: the warehouse, with its 1,004 managers
    make bench-extracts MANAGERS=200 WORKERS=1,2

Results are appended to bench/results/extracts.json.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg
from pipeline import BENCH_DIR, bench_settings
from results_file import RESULTS_DIR, append_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = parser.parse_args()

    from insight_hub.insight.deliver import build_extracts
    from insight_hub.insight.readiness import check_readiness
    from insight_hub.insight.report import managers, report_week
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
    from insight_hub.warehouse import embedded_server, warehouse_url

    home = BENCH_DIR / "pipeline"
    if not (home / "pg").exists():
        raise SystemExit(f"{home} holds no warehouse: run `make bench SCALE=1` first")
    settings = bench_settings(home, home / "landing")
    embedded_server(settings).start()
    url = warehouse_url(settings)
    with psycopg.connect(url) as conn:
        everyone = managers(conn)
        week = report_week(conn)
        readiness = check_readiness(conn, MANIFEST_PATH)
    if not everyone or week is None:
        raise SystemExit(f"the warehouse at {home} has no managers or no contacts: run `make bench` first")
    todo = everyone[: args.managers]
    print(f"{len(todo)} of {len(everyone):,} managers' extracts for the week of {week.start} ...")

    results = []
    for workers in [int(w) for w in args.workers.split(",") if w.strip()]:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as outbox:
            built = sum(
                1
                for _ in build_extracts(
                    url, todo, week, readiness, settings.alert_from, Path(outbox), workers
                )
            )
        seconds = time.perf_counter() - started
        results.append(
            {
                "workers": workers,
                "extracts": built,
                "seconds": round(seconds, 1),
                "ms_per_extract": round(seconds / built * 1000),
            }
        )
        print(
            f"  {workers} worker(s): {built} extracts in {seconds:.1f} s, {seconds / built * 1000:.0f} ms each"
        )
    base = results[0]["seconds"]
    for r in results:
        r["speed_up"] = round(base / r["seconds"], 2)
    out = append_run("extracts", {"managers": len(todo), "week": week.start.isoformat(), "results": results},
                     directory=RESULTS_DIR)  # fmt: skip
    print(f"written to {out}")


if __name__ == "__main__":
    main()
