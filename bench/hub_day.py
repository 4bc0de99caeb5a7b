"""The hub's daily build alone, timed again and again on the same data: for trying a change to it.

    make bench-hub SCALE=1          # once: builds the history and keeps the warehouse before its daily build
    make bench-hub-day RUNS=3       # then, per change: the daily `dbt build`, each run on a fresh copy
    make bench-hub-day RUNS=1 TEMPLATE=bench_hub_day_before   # the same on a warehouse kept under another name

`make bench-hub` keeps the warehouse as it stands just before its daily build (the history built, one more
day loaded) as the template database `bench_hub_day`. Each run here copies it to `bench_hub_trial` and
times the same `dbt build` the hub benchmark times, with the project as it is now, so runs of two
versions of a model can be compared on identical data in a minute or two each. It reports per run the
wall time, the CPU time the whole machine spent during it (the daily build keeps both cores busy, so less
work is what shortens it; another program running at the same time counts too) and the dbt process's own
share of it (the rest is the warehouse server's, when it runs on this machine), the nodes' time summed
by kind, the slowest nodes and the chain the build waited on; then the median wall time. Results are
appended to bench/results/hub_day.json. The last run's copy stays as `bench_hub_trial` to look into.

The machines these run on are shared and their speed drifts by the hour: to compare two versions,
alternate them (A, B, A, B) rather than running one after the other in blocks. A change to how a full
build lays out its tables shows only on a warehouse that version built: keep the first version's
warehouse under another name (`alter database bench_hub_day rename to bench_hub_day_before`), run
`make bench-hub` with the second, and alternate TEMPLATE=bench_hub_day_before with the default.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

import psutil
import psycopg
from hub import (
    DAY_TEMPLATE_DB,
    ROOT,
    critical_path,
    database_urls,
    dbt_build,
    fresh_database,
    seconds_by_kind,
    session_settings,
    settings_line,
)
from results_file import append_run

TRIAL_DB = "bench_hub_trial"


def template_exists(template: str) -> bool:
    _, admin_url = database_urls(template)
    with psycopg.connect(admin_url) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (template,)).fetchone()
    return found is not None


def machine_cpu_seconds() -> float:
    """CPU time (user + system) every core of the machine has spent since boot."""
    times = psutil.cpu_times()
    return times.user + times.system


def code_version() -> str:
    out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def one_run(target, template: str) -> dict:
    url, _ = fresh_database(TRIAL_DB, template=template)
    settings_seen = session_settings(url)
    cpu_before = machine_cpu_seconds()
    build = dbt_build(url, target)
    cpu = machine_cpu_seconds() - cpu_before
    return {
        "build_seconds": round(build.seconds, 1),
        "machine_cpu_seconds": round(cpu, 1),
        "dbt_cpu_seconds": round(build.dbt_cpu_seconds, 1),
        "session_settings": settings_seen,
        "seconds_by_kind": seconds_by_kind(build.nodes),
        "slowest": [[n, round(s, 2)] for n, s in build.nodes[:10]],
        "critical_path": [[n, round(a, 1), round(b, 1)] for n, a, b in critical_path(target, build.spans)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--template", default=DAY_TEMPLATE_DB, help="the database each run copies")
    args = parser.parse_args()
    if not template_exists(args.template):
        raise SystemExit(
            f"error: no database {args.template} on the warehouse server; run `make bench-hub` first"
            + ("" if args.template == DAY_TEMPLATE_DB else " and keep its warehouse under that name")
        )

    target = ROOT / ".local" / "bench" / "hub-day" / "target"
    version = code_version()
    runs = []
    for number in range(1, args.runs + 1):
        print(
            f"run {number} of {args.runs}: daily dbt build on a fresh copy of {args.template} ...",
            flush=True,
        )
        started = time.perf_counter()
        run = one_run(target, args.template)
        runs.append(run)
        kinds = ", ".join(f"{kind} {s:.1f} s" for kind, s in run["seconds_by_kind"].items())
        print("  " + settings_line(run["session_settings"]))
        print(
            f"  build {run['build_seconds']:.1f} s, machine CPU {run['machine_cpu_seconds']:.1f} s "
            f"(dbt process {run['dbt_cpu_seconds']:.1f} s); "
            f"nodes summed: {kinds} (run with its copy: {time.perf_counter() - started:.0f} s)"
        )
        for node, seconds in run["slowest"][:5]:
            print(f"    {node:<70}{seconds:7.1f} s")
        print("  the chain it waited on (start, end in s; nodes under 0.5 s left out):")
        for node, start, end in run["critical_path"]:
            if end - start >= 0.5:
                print(f"    {start:6.1f} {end:6.1f}  {node}")

    median = statistics.median(r["build_seconds"] for r in runs)
    each = ", ".join(f"{r['build_seconds']:.1f}" for r in runs)
    print(
        f"\ncode {version} on {args.template}: daily build median {median:.1f} s over {len(runs)} runs ({each})"
    )
    out_file = append_run(
        "hub_day",
        {
            "code": version,
            "template": args.template,
            "median_build_seconds": median,
            "runs": runs,
        },
    )
    print(f"written to {out_file}")


if __name__ == "__main__":
    main()
