"""Hub benchmark: the full dbt build of the hub, then the incremental build after one more day of data.

    make bench-hub SCALE=1     # 200,000 customers, about 2 million contacts over 167 days

The demo generator writes the sources (cached under .local/bench/hub-<customers>/gen). Every day but the
last is landed as one file per entity and loaded through the product's own load (stage, validate,
publish); `dbt build --full-refresh` is timed. Then the last day lands, is loaded, and a plain
`dbt build` is timed: the daily run. Both builds are the scheduled build of the transform DAG: every
model, snapshot and data test, without the unit tests (PRODUCTION_DBT_ENV). The slowest nodes
of each build, its nodes' time summed by kind (models, data tests, unit tests, snapshots), and the chain of
nodes the daily build waited on (its critical path) come from the result events dbt logs as JSON and the
build graph dbt writes to its target folder (graph_summary.json). Each build runs with the flags the
transform DAG's build runs with (producer_flags): dbt writes no manifest or run results at its end.
Results are appended to bench/results/hub.json.

The warehouse as it stands just before the daily build is kept as the template database `bench_hub_day`
(a copy on the same server), so `make bench-hub-day` can time that daily build again and again, each
time on a fresh copy, in a minute or two rather than this benchmark's ten (see bench/hub_day.py).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from results_file import append_run

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS_AT_SCALE_1 = 200_000
DAYS = 167  # at the generator's 0.06 contacts per customer and day: 2 million contacts at SCALE=1
# The warehouse just before its daily build, kept for bench/hub_day.py.
DAY_TEMPLATE_DB = "bench_hub_day"


def generate(gen: Path, customers: int, days: int, start: date | None = None) -> None:
    """The demo sources, generated once per size and first day (the generator is deterministic for a
    seed); without `start`, the generator's own first day."""
    from insight_hub.demo import DemoConfig
    from insight_hub.demo import generate as write_demo

    demo = DemoConfig(customers=customers, days=days, **({"start": start} if start else {}))
    marker = gen / "_ground_truth" / "summary.json"
    if marker.exists():
        config = json.loads(marker.read_text())["config"]
        if (config["customers"], config["days"], config["start"]) == (
            customers,
            days,
            demo.start.isoformat(),
        ):
            return
    shutil.rmtree(gen, ignore_errors=True)
    write_demo(gen, demo)


def load_all(url: str, settings) -> dict:
    """Load every entity through the product's load; rows read per entity."""
    from insight_hub.ingest.runner import load_all_entities

    return {summary.entity: summary.rows_read for summary in load_all_entities(url, settings=settings)}


def producer_flags() -> list[str]:
    """The flags the transform DAG's `dbt build` runs with: the project's (PRODUCTION_DBT_FLAGS: no
    manifest.json or run_results.json written at the end) and the JSON log events cosmos' watcher producer
    asks for on stdout. The benchmark times that same command and reads the same events."""
    from insight_hub.orchestration.cosmos_config import PRODUCTION_DBT_FLAGS

    return ["--log-format", "json", *PRODUCTION_DBT_FLAGS]


def dbt_build_command(target: Path, *extra: str) -> list[str]:
    """`dbt build` of the product's project as the transform DAG runs it, compiling into `target`."""
    from insight_hub.orchestration.cosmos_config import DBT_EXECUTABLE, DBT_PROJECT_DIR

    return [str(DBT_EXECUTABLE), "--no-use-colors", "build", *producer_flags(), *extra, "--project-dir",
            str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(target)]  # fmt: skip


def database_urls(name: str) -> tuple[str, str]:
    """(URL of the database `name` on the warehouse server, URL of that server's admin database)."""
    from insight_hub.settings import get_settings
    from insight_hub.warehouse import embedded_server, warehouse_url

    base = warehouse_url()
    admin_url = embedded_server().url("postgres") if not get_settings().warehouse_url else base
    return base.rsplit("/", 1)[0] + "/" + name, admin_url


def fresh_database(name: str, template: str | None = None) -> tuple[str, str]:
    """(URL of a new database `name` on the warehouse server, URL of that server's admin database). The
    new database is empty, or a copy of the database `template` (which nobody may be connected to)."""
    url, admin_url = database_urls(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        # file_copy: the copy's files are copied whole, much faster than WAL-logging a large database.
        conn.execute(
            f'create database "{name}"' + (f' template "{template}" strategy file_copy' if template else "")
        )
    return url, admin_url


def session_settings(url: str) -> dict[str, str]:
    """The settings that shape dbt's query plans, as a session of dbt's gets them: the server's, or what
    PGOPTIONS in the environment sets for each session instead (libpq reads it, for dbt as for psycopg).
    `PGOPTIONS="-c max_parallel_workers_per_gather=2" make bench-hub-day` times the build with
    PostgreSQL's default parallel workers on a server that starts with none (insight_hub.warehouse.embedded)."""
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(f"show {name}").fetchone()[0]
            for name in ("max_parallel_workers_per_gather", "random_page_cost", "work_mem")
        }


def settings_line(settings: dict[str, str]) -> str:
    return "dbt's sessions: " + ", ".join(f"{name} {value}" for name, value in settings.items())


@dataclass
class Build:
    """A timed `dbt build`: its wall seconds, the CPU seconds (user + system) of the dbt process itself, each
    node's execution seconds (slowest first) and each node's (start, end) as unix times."""

    seconds: float
    dbt_cpu_seconds: float
    nodes: list[tuple[str, float]]
    spans: dict[str, tuple[float, float]]


def node_results(stdout: str) -> tuple[list[tuple[str, float]], dict[str, tuple[float, float]]]:
    """Each node's execution seconds and (start, end), from the result events (LogModelResult,
    LogTestResult, LogSnapshotResult, ...) in dbt's JSON log lines. A line that is not JSON is skipped."""

    def seconds(stamp: str) -> float:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()

    nodes, spans = [], {}
    for line in stdout.splitlines():
        try:
            data = json.loads(line).get("data", {})
        except json.JSONDecodeError:
            continue
        info = data.get("node_info") or {}
        if "execution_time" not in data or not info.get("node_finished_at"):
            continue
        nodes.append((info["unique_id"], data["execution_time"]))
        spans[info["unique_id"]] = (seconds(info["node_started_at"]), seconds(info["node_finished_at"]))
    return sorted(nodes, key=lambda n: -n[1]), spans


def log_messages(stdout: str) -> str:
    """dbt's JSON log lines as the text lines a person reads (each event's message)."""
    lines = []
    for line in stdout.splitlines():
        try:
            lines.append(json.loads(line)["info"]["msg"])
        except (json.JSONDecodeError, KeyError, TypeError):
            lines.append(line)
    return "\n".join(lines)


def dbt_build(url: str, target: Path, *extra: str) -> Build:
    """Time `dbt build` as the transform DAG runs it."""
    from insight_hub.orchestration.cosmos_config import PRODUCTION_DBT_ENV
    from insight_hub.warehouse import dbt_env

    env = dbt_env(url) | PRODUCTION_DBT_ENV
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out = subprocess.run(dbt_build_command(target, *extra), env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    dbt_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
    if out.returncode != 0:
        raise SystemExit(
            f"dbt build {' '.join(extra)} failed:\n{log_messages(out.stdout)[-4000:]}\n{out.stderr[-2000:]}"
        )
    nodes, spans = node_results(out.stdout)
    return Build(seconds, dbt_cpu, nodes, spans)


def seconds_by_kind(nodes: list[tuple[str, float]]) -> dict[str, float]:
    """Node execution time summed per kind of node (the first part of its unique id: model, test,
    unit_test, snapshot). With several threads the sum exceeds the build's wall time."""
    kinds: dict[str, float] = {}
    for unique_id, seconds in nodes:
        kind = unique_id.split(".", 1)[0]
        kinds[kind] = round(kinds.get(kind, 0.0) + seconds, 1)
    return kinds


def critical_path(target: Path, spans: dict[str, tuple[float, float]]) -> list[tuple[str, float, float]]:
    """The chain of nodes a build waited on, first to last: from the node that finished last, back
    through the predecessor (in dbt's build graph, tests included, which the build writes to
    `target`/graph_summary.json) that finished last before it, each as (unique id, start, end) in seconds
    from the build's first node; `spans` are the nodes' (start, end) (Build.spans). A gap before a node
    is the time it waited for a free thread."""
    graph = json.loads((target / "graph_summary.json").read_text())["with_test_edges"]
    names = {int(index): node["name"] for index, node in graph.items()}
    predecessors: dict[str, list[str]] = {}
    for index, node in graph.items():
        for successor in node.get("succ", []):
            predecessors.setdefault(names[successor], []).append(names[int(index)])
    first = min(start for start, _ in spans.values()) if spans else 0.0
    chain = []
    # The project's on-run-end hook (an operation) runs after every node but depends on none in the
    # graph: the chain ends at the last node that is not one.
    nodes = [n for n in spans if not n.startswith("operation.")]
    node = max(nodes, key=lambda n: spans[n][1]) if nodes else None
    while node is not None:
        chain.append((node, spans[node][0] - first, spans[node][1] - first))
        ran = [p for p in predecessors.get(node, []) if p in spans]
        node = max(ran, key=lambda p: spans[p][1]) if ran else None
    return chain[::-1]


def timed(step):
    started = time.perf_counter()
    value = step()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 200,000 customers")
    parser.add_argument("--days", type=int, default=DAYS)
    args = parser.parse_args()

    from insight_hub.demo.landing import land_history_and_last_day
    from insight_hub.settings import get_settings
    from insight_hub.warehouse.prepare import prepare_for_dbt

    customers = max(50, round(CUSTOMERS_AT_SCALE_1 * args.scale))
    work = ROOT / ".local" / "bench" / f"hub-{customers}"
    print(f"generating {customers:,} customers over {args.days} days (cached) ...", flush=True)
    generate(work / "gen", customers, args.days)
    land_history_and_last_day(work / "gen", work / "landing", work / "last_day", merge=True)

    url, _ = fresh_database("bench_hub")
    settings = get_settings().model_copy(
        update={"landing_dir_override": work / "landing", "data_docs": False}
    )

    print("loading the history ...", flush=True)
    load_seconds, history_rows = timed(lambda: load_all(url, settings))
    prepare_for_dbt(url, settings)
    print("full build ...", flush=True)
    full = dbt_build(url, work / "target", "--full-refresh")
    full_seconds, full_nodes = full.seconds, full.nodes
    with psycopg.connect(url) as conn:
        contacts = conn.execute("select count(*) from marts.fct_contact").fetchone()[0]
        hub_customers = conn.execute("select count(*) from marts.dim_customer").fetchone()[0]

    for path in (work / "last_day").rglob("*"):
        if path.is_file():
            shutil.copyfile(path, work / "landing" / path.relative_to(work / "last_day"))
    print("loading one more day ...", flush=True)
    day_load_seconds, day_rows = timed(lambda: load_all(url, settings))
    prepare_for_dbt(url, settings)
    print(f"keeping the warehouse before its daily build as {DAY_TEMPLATE_DB} ...", flush=True)
    fresh_database(DAY_TEMPLATE_DB, template="bench_hub")
    print("incremental build ...", flush=True)
    incremental = dbt_build(url, work / "target")
    incr_seconds, incr_nodes = incremental.seconds, incremental.nodes
    chain = critical_path(work / "target", incremental.spans)
    with psycopg.connect(url) as conn:
        db_mb = conn.execute("select pg_database_size(current_database()) / 1048576.0").fetchone()[0]

    ratio = incr_seconds / full_seconds
    settings_seen = session_settings(url)
    print()
    print(f"hub: {hub_customers:,} customers, {contacts:,} contacts, database {db_mb:,.0f} MB")
    print("  " + settings_line(settings_seen))
    steps = [
        (f"load the history ({sum(history_rows.values()):,} rows)", f"{load_seconds:.1f} s"),
        ("dbt build --full-refresh", f"{full_seconds:.1f} s"),
        (f"load one more day ({sum(day_rows.values()):,} rows)", f"{day_load_seconds:.1f} s"),
        ("dbt build (incremental)", f"{incr_seconds:.1f} s"),
        ("incremental / full", f"{ratio:.1%}"),
    ]
    for name, figure in steps:
        print(f"  {name:<44}{figure:>10}")
    for title, nodes in (("full build", full_nodes), ("incremental build", incr_nodes)):
        print(f"  slowest nodes, {title}:")
        for node, seconds in nodes[:8]:
            print(f"    {node:<70}{seconds:7.1f} s")
        kinds = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in seconds_by_kind(nodes).items())
        print(f"  node time summed by kind, {title}: {kinds}")
    print("  the chain the incremental build waited on (start, end in s; nodes under 0.5 s left out):")
    for node, start, end in chain:
        if end - start >= 0.5:
            print(f"    {start:6.1f} {end:6.1f}  {node}")

    out_file = append_run(
        "hub",
        {
            "scale": args.scale,
            "customers": hub_customers,
            "contacts": contacts,
            "database_mb": round(db_mb),
            "session_settings": settings_seen,
            "load_history_seconds": round(load_seconds, 1),
            "full_build_seconds": round(full_seconds, 1),
            "load_day_seconds": round(day_load_seconds, 1),
            "incremental_build_seconds": round(incr_seconds, 1),
            "incremental_share": round(ratio, 4),
            "slowest_full": [[n, round(s, 2)] for n, s in full_nodes[:15]],
            "slowest_incremental": [[n, round(s, 2)] for n, s in incr_nodes[:15]],
            "seconds_by_kind_full": seconds_by_kind(full_nodes),
            "seconds_by_kind_incremental": seconds_by_kind(incr_nodes),
            "critical_path_incremental": [[n, round(a, 1), round(b, 1)] for n, a, b in chain],
        },
    )
    print(f"written to {out_file}")


if __name__ == "__main__":
    main()
