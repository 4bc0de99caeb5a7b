"""Soak benchmark: many consecutive daily intervals in one long-lived process, watching for leaks.

    make bench-soak SCALE=0.1 DAYS=30     # 20,000 customers: a history, then 30 days one at a time
    make bench-soak SCALE=0.5 DAYS=30 HISTORY_DAYS=335   # make bench's SCALE=1: 100,000 customers, a year

The demo generator writes the sources (SCALE as in bench-hub: 1 = 200,000 customers). The history is loaded
and built in full; then each of the last DAYS days (the last file is yesterday's) lands and runs as a daily
interval does: every entity loaded through the product's load (stage, validate with Great Expectations,
publish), the warehouse prepared, `dbt build` (incremental), the insight actions synced and the managers'
extracts sent through a real SMTP server on 127.0.0.1, in a process of its own as in production (so a
manager's message for a week is built and sent once, and the week's other days skip it). After each day it
records the day's time, this process's resident memory and its count of Python objects the garbage collector
tracks (a leak of objects grows it; memory the allocator keeps for reuse does not), the blocks Python's
small-object allocator holds and the bytes the C allocator has handed out (both in use only: a leak of strings
or of C memory grows them, memory kept for reuse does not), the peak memory of that day's dbt, and the
connections open on the warehouse server once the day is done (every one of the product's own should be closed
by then). The summary compares the first and last five days and fits a slope per day; results are appended to
bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree

import psutil
import psycopg
from hub import CUSTOMERS_AT_SCALE_1, dbt_build_command, fresh_database, generate
from mail import mail_server_process, smtp_send
from results_file import RESULTS_DIR, append_run

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024


def dbt_build_watched(url: str, target: Path, *extra: str) -> tuple[float, float]:
    """(seconds, peak resident MB) of one `dbt build`, its memory sampled every 0.2 s."""
    from insight_hub.warehouse import dbt_env

    started = time.perf_counter()
    proc = psutil.Popen(
        dbt_build_command(target, *extra),
        env=dbt_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"dbt build {' '.join(extra)} failed:\n{output[-4000:]}")
    return time.perf_counter() - started, peak[0] / MB


def malloc_in_use_mb() -> float | None:
    """Bytes the C allocator has handed out and not had back, over all its arenas, in MB.

    glibc's malloc_info(3) reports, for the main arena and each thread's, the memory taken from the system
    and the free chunks kept in its bins, and the blocks mmapped on their own; in use is the first less the
    second, plus the third. (mallinfo2 counts the main arena only, so it misses what the threads of the
    extracts' process pool allocate.) Resident memory also counts the free chunks; this does not, so a
    leak in C (libpq, psycopg, an extension) grows it while memory the allocator merely keeps does not.
    None where the C library is not glibc.
    """
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "malloc_info"):
        return None
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    with tempfile.NamedTemporaryFile(suffix=".xml") as report:
        stream = libc.fopen(report.name.encode(), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        root = ElementTree.parse(report.name).getroot()
    # The <malloc> element's own children sum every arena; each <heap> child is one arena.
    totals = {(e.tag, e.get("type")): int(e.get("size")) for e in root if e.tag in ("total", "system")}
    in_use = totals[("system", "current")] - totals[("total", "fast")] - totals[("total", "rest")]
    return round((in_use + totals[("total", "mmap")]) / MB, 1)


def open_connections(admin_url: str, settle_seconds: float = 3.0) -> tuple[int, int]:
    """(client connections on the whole server, of them to the soak's database), not counting this query.

    A backend leaves pg_stat_activity a moment after its client hangs up (the extract workers have just
    exited), so the count is taken again for up to `settle_seconds` until none is left: what remains
    after that was left open."""
    deadline = time.monotonic() + settle_seconds
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while True:
            counts = conn.execute(
                """select count(*), count(*) filter (where datname = 'bench_soak') from pg_stat_activity
                   where backend_type = 'client backend' and pid <> pg_backend_pid()"""
            ).fetchone()
            if counts[0] == 0 or time.monotonic() > deadline:
                return counts
            time.sleep(0.2)


def slope(values: list[float]) -> float:
    """Least-squares change per day."""
    return statistics.linear_regression(range(len(values)), values).slope if len(values) > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.1, help="1 = 200,000 customers")
    parser.add_argument("--days", type=int, default=30, help="daily intervals to run one after another")
    parser.add_argument("--history-days", type=int, default=60, help="days loaded and built before the first")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--bench-dir", type=Path, default=ROOT / ".local" / "bench", help="generated sources")
    args = parser.parse_args()

    from insight_hub.demo.landing import DAY_FILE, land_history_and_last_day
    from insight_hub.ingest.runner import load_all_entities
    from insight_hub.insight.actions import sync_actions
    from insight_hub.insight.deliver import deliver_extracts
    from insight_hub.orchestration.cosmos_config import MANIFEST_PATH
    from insight_hub.settings import get_settings
    from insight_hub.warehouse.prepare import prepare_for_dbt

    customers = max(50, round(CUSTOMERS_AT_SCALE_1 * args.scale))
    work = args.bench_dir / f"soak-{customers}-{args.history_days}-{args.days}"
    total_days = args.history_days + args.days
    print(f"generating {customers:,} customers over {total_days} days (cached) ...", flush=True)
    # Nothing may be dated in the future: the product quarantines such timestamps and rejects the batch.
    # A survey response comes up to 30 hours after its contact, so the last contact day is three days
    # ago and the last response file yesterday's.
    generate(work / "gen", customers, total_days, start=date.today() - timedelta(days=total_days + 2))
    land_history_and_last_day(work / "gen", work / "landing", work / "later", merge=True, days=args.days)
    later = sorted(p for p in (work / "later").rglob("*") if p.is_file())
    days = sorted({DAY_FILE.match(p.name)["day"] for p in later})

    url, admin_url = fresh_database("bench_soak")
    settings = get_settings().model_copy(
        update={"landing_dir_override": work / "landing", "data_docs": False}
    )
    me = psutil.Process()

    def interval(*build_args: str) -> dict:
        started = time.perf_counter()
        rows = sum(s.rows_read for s in load_all_entities(url, settings=settings))
        loaded = time.perf_counter()
        prepare_for_dbt(url, settings)
        build_seconds, dbt_peak_mb = dbt_build_watched(url, work / "target", *build_args)
        built = time.perf_counter()
        with psycopg.connect(url) as conn:
            sync_actions(conn)
        summary = deliver_extracts(
            url,
            MANIFEST_PATH,
            work / "outbox",
            sender_address=settings.alert_from,
            send=smtp_send(mail_port),
            workers=settings.extract_workers,
        )
        server_connections, soak_connections = open_connections(admin_url)
        gc.collect()
        return {
            "rows": rows,
            "seconds": round(time.perf_counter() - started, 1),
            "load_seconds": round(loaded - started, 1),
            "build_seconds": round(build_seconds, 1),
            "insight_seconds": round(time.perf_counter() - built, 1),
            "extracts_ready": summary.ready,
            "extracts_sent": len(summary.sent),
            "process_rss_mb": round(me.memory_info().rss / MB, 1),
            "python_objects": len(gc.get_objects()),
            # Every object Python's small-object allocator holds, tracked by the collector or not (strings,
            # bytes, numbers): a leak of any of them grows this.
            "pymalloc_blocks": sys.getallocatedblocks(),
            "malloc_in_use_mb": malloc_in_use_mb(),
            "dbt_peak_mb": round(dbt_peak_mb, 1),
            "server_connections": server_connections,
            "soak_db_connections": soak_connections,
        }

    with mail_server_process() as mail_port:
        print("loading and building the history ...", flush=True)
        history = interval("--full-refresh")
        print(f"  {history}", flush=True)
        runs = []
        for day in days:
            for path in later:
                if DAY_FILE.match(path.name)["day"] == day:
                    target = work / "landing" / path.relative_to(work / "later")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
            run = {"day": day, **interval()}
            runs.append(run)
            print(
                f"  {day}  {run['rows']:>7,} rows  {run['seconds']:6.1f} s (load {run['load_seconds']:.1f}, dbt "
                f"{run['build_seconds']:.1f}, insight {run['insight_seconds']:.1f}, {run['extracts_sent']} sent)"
                f"  process {run['process_rss_mb']:6.1f} MB ({run['malloc_in_use_mb']} MB malloc in use),"
                f" {run['python_objects']:,} objects, {run['pymalloc_blocks']:,} blocks"
                f"  dbt {run['dbt_peak_mb']:6.1f} MB  connections {run['server_connections']}"
                f" ({run['soak_db_connections']} to the hub)",
                flush=True,
            )

    def summary_of(key: str) -> dict:
        values = [r[key] for r in runs]
        return {
            "first_5_mean": round(statistics.mean(values[:5]), 2),
            "last_5_mean": round(statistics.mean(values[-5:]), 2),
            "max": max(values),
            "slope_per_day": round(slope(values), 3),
        }

    figures = {
        key: summary_of(key)
        for key in (
            "seconds",
            "process_rss_mb",
            "malloc_in_use_mb",
            "python_objects",
            "pymalloc_blocks",
            "dbt_peak_mb",
            "server_connections",
        )
        if all(r[key] is not None for r in runs)
    }
    print()
    print(f"{len(runs)} daily intervals at {customers:,} customers:")
    print(f"  {'':<20}{'first 5 (mean)':>16}{'last 5 (mean)':>16}{'max':>10}{'per day':>10}")
    for key, figure in figures.items():
        print(
            f"  {key:<20}{figure['first_5_mean']:>16}{figure['last_5_mean']:>16}{figure['max']:>10}"
            f"{figure['slope_per_day']:>10}"
        )
    out_file = append_run(
        "soak",
        {
            "scale": args.scale,
            "customers": customers,
            "history_days": args.history_days,
            "days": len(runs),
            "history": history,
            "summary": figures,
            "runs": runs,
        },
        directory=args.results_dir,
    )
    print(f"written to {out_file}")


if __name__ == "__main__":
    main()
