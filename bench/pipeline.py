"""Pipeline benchmark: the whole pipeline through Airflow at a size, with its floor and the common
alternative beside it, and how its cost grows with the data.

    make bench SCALE=1         # 100,000 customers, 1 million contacts, 300,000 orders, 100,000 surveys, a year
    make bench SCALE=1,2,4     # each size in turn, then the growth table and its exponent

For each SCALE the demo generator writes the sources (cached under .local/bench/pipeline-<customers>/gen).
Every day but the last lands as one file per entity, and the pipeline runs through Airflow exactly as
`make run` runs it (`airflow dags test` of each source DAG, then transform, then insight) on a warehouse
and an Airflow database of their own, on an embedded server under .local/bench/pipeline (WAREHOUSE_URL is
not used: the benchmark drops and recreates its databases). Then the last day lands and the pipeline runs
again: the daily incremental run.

Stage times are the Airflow task instances' own durations, summed per stage: extract+stage (stage_*),
validate (validate_*), publish (publish_*), dbt build (the transform DAG's dbt tasks) and extracts
(deliver_extracts). The extracts are e-mailed through a real SMTP server on 127.0.0.1, as in production,
so a run whose report week was sent already builds none of them; a run whose new day completes a week
(a Sunday) builds and sends every manager's. Peak memory is the largest resident size of any one process
this benchmark started (Airflow, its tasks, dbt), sampled every 0.1 s; the PostgreSQL server's own
processes are not counted.

Beside it, in the same run and on the same server:
  floor   plain COPY of the same files into bare all-text tables, and one SQL statement computing
          contact_centre_daily straight from the bare calls table
  pandas  pandas read (CSV or JSON Lines, in chunks of 100,000) + DataFrame.to_sql (batched inserts of
          10,000 rows, as in bench/ingest.py) of the same files: the load step as many teams write it

Results are appended to bench/results/pipeline.json, and bench/results/pipeline.md holds the latest run's
tables.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from mail import mail_server
from results_file import RESULTS_DIR, append_run

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / ".local" / "bench"
CUSTOMERS_AT_SCALE_1 = 100_000
DAYS = 365
# The generator's rates giving, per 100,000 customers over a year, about 1 million contacts,
# 300,000 orders and 100,000 survey responses (a survey follows about 11% of handled contacts).
RATES = {"contacts_per_customer_day": 0.0274, "orders_per_customer_day": 0.00822, "survey_rate": 0.109}
STAGES = ["extract+stage", "validate", "publish", "dbt build", "extracts"]
# File name prefix -> bare table of the floor and pandas loads.
FILE_TABLES = {
    "calls": "calls",
    "orders": "orders",
    "order_lines": "order_lines",
    "responses": "responses",
    "accounts": "accounts",
    "contacts": "contacts",
    "owners": "owners",
    "agents": "agents",
}


class PeakSampler:
    """Samples the resident size of every process this one started, every `interval` seconds."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.samples: list[tuple[float, int]] = []  # (unix time, largest RSS in bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            largest = 0
            for proc in me.children(recursive=True):
                try:
                    largest = max(largest, proc.memory_info().rss)
                except psutil.Error:
                    continue  # ended between listing and reading
            self.samples.append((time.time(), largest))
            self._stop.wait(self.interval)

    def peak_mb(self, windows: list[tuple[float, float]]) -> float:
        """Largest sample inside any of the (start, end) windows, in MB. A window no sample fell in (a task
        shorter than one pass over the processes, which takes longer than `interval` on a busy machine)
        takes the samples on either side of it."""
        samples = list(self.samples)
        times = [t for t, _ in samples]
        peak = 0
        for start, end in windows:
            inside = [rss for t, rss in samples if start <= t <= end]
            if not inside:
                after = bisect.bisect_right(times, end)
                inside = [rss for _, rss in samples[max(after - 1, 0) : after + 1]]
            peak = max(peak, *inside, 0)
        return round(peak / 1048576, 1)


def generate(gen: Path, customers: int) -> None:
    """The demo sources of the year that ended yesterday (a record dated in the future is quarantined),
    generated once per size: the generator is deterministic for a seed and a start."""
    from insight_hub.demo import DemoConfig
    from insight_hub.demo import generate as write_demo

    marker = gen / "_ground_truth" / "summary.json"
    if marker.exists():
        config = json.loads(marker.read_text())["config"]
        wanted = {"customers": customers, "days": DAYS, **RATES}
        in_the_past = date.fromisoformat(config["start"]) + timedelta(days=DAYS + 1) < date.today()
        if in_the_past and all(config.get(key) == value for key, value in wanted.items()):
            return
    shutil.rmtree(gen, ignore_errors=True)
    start = date.today() - timedelta(days=DAYS + 2)  # surveys come up to a day after the last contact
    write_demo(gen, DemoConfig(customers=customers, days=DAYS, start=start, **RATES))


def data_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".csv", ".jsonl"))


def bare_table(path: Path) -> str:
    stem = path.name.split(".")[0]
    for prefix, table in sorted(FILE_TABLES.items(), key=lambda kv: -len(kv[0])):
        if stem.startswith(prefix):
            return table
    raise SystemExit(f"{path}: no bare table for this file in bench/pipeline.py FILE_TABLES")


def count_rows(files: list[Path]) -> int:
    """Data rows in the files: records of a JSON Lines file, CSV records after the header (a quoted
    field may hold a line break, so CSVs are parsed)."""
    import csv

    total = 0
    for path in files:
        with path.open(newline="", encoding="utf-8") as fh:
            if path.suffix == ".jsonl":
                total += sum(1 for line in fh if line.strip())
            else:
                total += sum(1 for _ in csv.reader(fh)) - 1
    return total


# --- the product, through Airflow -------------------------------------------------------------------


def bench_settings(home: Path, landing: Path, smtp_port: int | None = None):
    """The product's settings for a benchmark home; with `smtp_port`, the extracts are e-mailed through the
    SMTP server on 127.0.0.1 there (Airflow's smtp_default), as in production, instead of only written."""
    from insight_hub.settings import Settings

    for name in ("WAREHOUSE_URL", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "INSIGHT_HUB_PG_PORT"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "INSIGHT_HUB_HOME": str(home),
            "INSIGHT_HUB_LANDING_DIR": str(landing),
            "INSIGHT_HUB_DATA_DOCS": "false",
            "INSIGHT_HUB_FAIL_ON_STALE_SOURCE": "false",
        }
    )
    if smtp_port is not None:
        os.environ["INSIGHT_HUB_SEND_EXTRACTS"] = "true"
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = (
            f"smtp://127.0.0.1:{smtp_port}?disable_ssl=true&disable_tls=true&timeout=30&retry_limit=0"
        )
    return Settings()


def reset_databases(settings) -> None:
    """A new warehouse and Airflow database, and no state of an earlier size in the benchmark's home."""
    from insight_hub.warehouse import AIRFLOW_DB, WAREHOUSE_DB, embedded_server

    server = embedded_server(settings)
    server.start()
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        for name in (WAREHOUSE_DB, AIRFLOW_DB, "bench_floor", "bench_pandas"):
            conn.execute(f'drop database if exists "{name}" with (force)')
    for folder in (settings.airflow_home, settings.home / "outbox", settings.home / "logs"):
        shutil.rmtree(folder, ignore_errors=True)


def task_durations(settings, since: datetime) -> list[tuple[str, str, float, float]]:
    """(dag_id, task_id, start, end) as unix times of every task instance that ran since `since`."""
    import sqlalchemy as sa

    from insight_hub.orchestration.environment import metadata_db_url

    engine = sa.create_engine(metadata_db_url(settings))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select dag_id, task_id, start_date, end_date from task_instance "
                    "where start_date >= :since and end_date is not null order by start_date"
                ),
                {"since": since},
            ).fetchall()
    finally:
        engine.dispose()
    return [(dag, task, start.timestamp(), end.timestamp()) for dag, task, start, end in rows]


def stage_of(dag_id: str, task_id: str) -> str | None:
    if task_id.startswith("stage_"):
        return "extract+stage"
    if task_id.startswith("validate_"):
        return "validate"
    if task_id.startswith("publish_"):
        return "publish"
    if dag_id == "transform" and task_id.startswith("hub."):
        return "dbt build"
    if task_id == "deliver_extracts":
        return "extracts"
    return None  # bookkeeping tasks: freshness checks, schema preparation, action sync, markers


def rate(rows: int, seconds: float) -> float | None:
    if not seconds:
        return None
    per_second = rows / seconds
    return round(per_second) if per_second >= 100 else round(per_second, 1)


def run_product(settings, label: str, sampler: PeakSampler, mailed: list[int]) -> dict:
    """One pipeline run through Airflow; its stages' seconds, rows and peak memory. `mailed` is the SMTP
    server's list of messages received, so the e-mails this run sent are counted."""
    from insight_hub.demo import DemoConfig
    from insight_hub.pipeline import run_pipeline
    from insight_hub.warehouse import warehouse_url

    print(f"{label}: running the pipeline through Airflow ...", flush=True)
    since = datetime.now(UTC)
    started = time.time()
    mailed_before = len(mailed)
    run_pipeline(settings, DemoConfig(), echo=lambda line: print(f"  {line}", flush=True))
    ended = time.time()

    windows: dict[str, list[tuple[float, float]]] = {stage: [] for stage in STAGES}
    for dag_id, task_id, start, end in task_durations(settings, since):
        stage = stage_of(dag_id, task_id)
        if stage:
            windows[stage].append((start, end))
    with psycopg.connect(warehouse_url(settings)) as conn:
        rows_read, rows_loaded, rows_quarantined = conn.execute(
            "select coalesce(sum(rows_read), 0)::bigint, coalesce(sum(rows_loaded), 0)::bigint, "
            "coalesce(sum(rows_quarantined), 0)::bigint "
            "from ops.load_batch where status = 'published' and started_at >= %s",
            (since,),
        ).fetchone()
        db_mb = conn.execute("select pg_database_size(current_database()) / 1048576.0").fetchone()[0]
    # The outbox keeps earlier runs' extracts: count this run's. A manager's extract already sent for the
    # week is neither built nor sent again.
    extracts = sum(1 for p in (settings.home / "outbox").rglob("*.xlsx") if p.stat().st_mtime >= started)
    stages = {}
    for stage in STAGES:
        seconds = sum(end - start for start, end in windows[stage])
        stages[stage] = {
            # Hundredths: a stage with nothing to do (the day's extracts when none is due) takes a few
            # hundredths of a second, which tenths would show as 0.
            "seconds": round(seconds, 2),
            "rows_per_second": rate(rows_read, seconds) if stage != "extracts" else None,
            "peak_mb": sampler.peak_mb(windows[stage]),
        }
    return {
        "wall_seconds": round(ended - started, 1),
        "load_seconds": round(sum(stages[s]["seconds"] for s in ("extract+stage", "validate", "publish")), 1),
        "peak_mb": sampler.peak_mb([(started, ended)]),
        "rows_read": int(rows_read),
        "rows_loaded": int(rows_loaded),
        "rows_quarantined": int(rows_quarantined),
        "extracts_written": extracts,
        "emails_sent": len(mailed) - mailed_before,
        "database_mb": round(db_mb),
        "stages": stages,
    }


# --- the floor and the common alternative -------------------------------------------------------------

# The floor's casts skip values that are not valid (the demo injects some); a CASE with
# pg_input_is_valid costs far less than the load's per-row checks.
FLOOR_DAILY = """
create table floor_contact_centre_daily as
with calls as (
    select
        "Call ID" as interaction_id,
        lower("Media Type") as channel,
        "Queue Name" as queue,
        "Agent" as agent_id,
        nullif("Customer Account", '') as customer_id,
        "Queue Start"::timestamp at time zone 'UTC' as queued_at,
        case when pg_input_is_valid("Answer Time", 'timestamp')
            then "Answer Time"::timestamp at time zone 'UTC' end as answered_at,
        case when pg_input_is_valid("End Time", 'timestamp')
            then "End Time"::timestamp at time zone 'UTC' end as ended_at,
        case when pg_input_is_valid("Talk Time", 'integer') then "Talk Time"::integer else 0 end
            + case when pg_input_is_valid("Hold Time", 'integer') then "Hold Time"::integer else 0 end
            + case when pg_input_is_valid("ACW Time", 'integer') then "ACW Time"::integer else 0 end
            as handle_seconds,
        "Transferred" = 'Y' as is_transferred,
        "Complaint" = 'Y' as is_complaint,
        "Disposition" as reason
    from calls
    where pg_input_is_valid("Queue Start", 'timestamp')
),
flagged as (
    select
        *,
        answered_at is not null as is_handled,
        answered_at is null and coalesce(ended_at - queued_at < interval '5 seconds', false) as is_short_abandon,
        extract(epoch from answered_at - queued_at) as answer_seconds,
        lead(queued_at) over (partition by customer_id order by queued_at) as next_contact_at
    from calls
)
select
    (queued_at at time zone 'Europe/London')::date as contact_date,
    queue,
    channel,
    agent_id,
    count(*) filter (where not is_short_abandon) as contacts_offered,
    count(*) filter (where is_handled) as contacts_handled,
    count(*) filter (where not is_handled and not is_short_abandon) as contacts_abandoned,
    count(*) filter (where is_handled and answer_seconds <= case channel
        when 'email' then 14400 when 'social' then 3600 else 20 end) as contacts_within_service_level,
    avg(answer_seconds) filter (where is_handled) as asa_seconds,
    avg(handle_seconds) filter (where is_handled) as aht_seconds,
    count(*) filter (where is_handled and is_transferred) as contacts_transferred,
    count(*) filter (where is_handled and customer_id is not null
        and next_contact_at <= queued_at + interval '7 days') as contacts_followed_by_repeat,
    count(*) filter (where is_handled and is_complaint) as complaints
from flagged
group by 1, 2, 3, 4
"""


def _csv_header(path: Path) -> list[str]:
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def run_floor(url: str, files: list[Path]) -> dict:
    """COPY every file into a bare all-text table (a JSON Lines record into one text column), then the
    one-statement contact_centre_daily."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        created: set[str] = set()
        for path in files:
            table = bare_table(path)
            if path.suffix == ".jsonl":
                columns, copy = ["record"], "(format csv, quote e'\\x01', delimiter e'\\x02')"
            else:
                columns, copy = _csv_header(path), "(format csv, header true)"
            if table not in created:
                typed = ", ".join(f'"{column}" text' for column in columns)
                conn.execute(f"create table {table} ({typed})")
                created.add(table)
            with conn.cursor().copy(f"copy {table} from stdin with {copy}") as cp, path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    cp.write(block)
        copied = time.perf_counter()
        conn.execute(FLOOR_DAILY)
        rows = sum(conn.execute(f"select count(*) from {t}").fetchone()[0] for t in created)
    return {
        "copy_seconds": round(copied - started, 2),
        "daily_sql_seconds": round(time.perf_counter() - copied, 2),
        "rows": rows,
    }


def pandas_load(url: str, files: list[Path]) -> None:
    """The load step as many teams write it: read each file with pandas, DataFrame.to_sql."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    for path in files:
        table = bare_table(path)
        if path.suffix == ".jsonl":
            chunks = pd.read_json(path, lines=True, chunksize=100_000, dtype=False)
        else:
            chunks = pd.read_csv(path, chunksize=100_000, dtype=str, keep_default_na=False)
        for chunk in chunks:
            if path.suffix == ".jsonl":
                chunk = chunk.map(lambda v: json.dumps(v) if isinstance(v, dict | list) else v)
            chunk.to_sql(table, engine, if_exists="append", index=False, chunksize=10_000)
    engine.dispose()


def run_pandas(url: str, files: list[Path]) -> dict:
    """pandas_load in a process of its own (its memory is then its own)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "_pandas", url, *map(str, files)], check=True)
    return {"seconds": round(time.perf_counter() - started, 2)}


def new_database(settings, name: str) -> str:
    from insight_hub.warehouse import embedded_server

    server = embedded_server(settings)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return server.url(name)


# --- one size, many sizes ------------------------------------------------------------------------------


def bench_scale(scale: float, with_pandas: bool, bench_dir: Path = BENCH_DIR) -> dict:
    from insight_hub.demo.landing import land_history_and_last_day
    from insight_hub.warehouse import embedded_server

    customers = max(50, round(CUSTOMERS_AT_SCALE_1 * scale))
    work = bench_dir / f"pipeline-{customers}"
    print(f"SCALE={scale:g}: generating {customers:,} customers over {DAYS} days (cached) ...", flush=True)
    generate(work / "gen", customers)
    land_history_and_last_day(work / "gen", work / "landing", work / "last_day", merge=True)
    history_files, day_files = data_files(work / "landing"), data_files(work / "last_day")
    with mail_server() as (smtp_port, mailed), PeakSampler() as sampler:
        settings = bench_settings(bench_dir / "pipeline", work / "landing", smtp_port)
        reset_databases(settings)
        try:
            full = run_product(settings, f"SCALE={scale:g} full", sampler, mailed)
            for path in day_files:
                target = work / "landing" / path.relative_to(work / "last_day")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            incremental = run_product(settings, f"SCALE={scale:g} one more day", sampler, mailed)

            print(f"SCALE={scale:g}: the floor (COPY into bare tables, one SQL statement) ...", flush=True)
            floor_started = time.time()
            floor = run_floor(new_database(settings, "bench_floor"), history_files)
            floor["peak_mb"] = sampler.peak_mb([(floor_started, time.time())])
            pandas = None
            if with_pandas:
                print(f"SCALE={scale:g}: pandas read + to_sql ...", flush=True)
                pandas_started = time.time()
                pandas = run_pandas(new_database(settings, "bench_pandas"), history_files)
                pandas["peak_mb"] = sampler.peak_mb([(pandas_started, time.time())])
        finally:
            # The server is the benchmark's own: it is not left running (make bench-extracts starts it again).
            embedded_server(settings).stop()

    floor_total = floor["copy_seconds"] + floor["daily_sql_seconds"]
    product_total = full["load_seconds"] + full["stages"]["dbt build"]["seconds"]
    ratios = {
        "load_vs_copy": round(full["load_seconds"] / floor["copy_seconds"], 2),
        "load_and_build_vs_floor": round(product_total / floor_total, 2),
    }
    if pandas:
        ratios["load_vs_pandas"] = round(full["load_seconds"] / pandas["seconds"], 2)
    return {
        "scale": scale,
        "customers": customers,
        "history_rows_in_files": count_rows(history_files),
        "day_rows_in_files": count_rows(day_files),
        "full": full,
        "incremental": incremental,
        "floor": floor,
        "pandas": pandas,
        "ratios": ratios,
    }


def exponent(points: list[tuple[float, float]]) -> float | None:
    """k in seconds ~ SCALE^k, the least-squares slope of log(seconds) on log(SCALE)."""
    points = [(s, t) for s, t in points if s > 0 and t > 0]
    if len({s for s, _ in points}) < 2:
        return None
    xs, ys = [math.log(s) for s, _ in points], [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return round(slope, 2)


def growth(sizes: list[dict]) -> dict:
    return {
        "full_wall_exponent": exponent([(r["scale"], r["full"]["wall_seconds"]) for r in sizes]),
        "incremental_wall_exponent": exponent(
            [(r["scale"], r["incremental"]["wall_seconds"]) for r in sizes]
        ),
        "full_peak_mb_exponent": exponent([(r["scale"], r["full"]["peak_mb"]) for r in sizes]),
    }


def markdown(run: dict) -> str:
    lines = [f"# Pipeline benchmark, {run['measured_at']}", "", f"Machine: {run['machine_text']}.", ""]
    for size in run["sizes"]:
        lines += [
            f"## SCALE={size['scale']:g}: {size['customers']:,} customers, "
            f"{size['history_rows_in_files']:,} history rows, {size['day_rows_in_files']:,} rows in the last day",
            "",
        ]
        for key, title in (("full", "Full run (history)"), ("incremental", "Incremental run (one more day)")):
            r = size[key]
            lines += [
                f"{title}: wall {r['wall_seconds']} s through Airflow, peak {r['peak_mb']} MB, "
                f"database {r['database_mb']:,} MB; rows read {r['rows_read']:,} = loaded {r['rows_loaded']:,} "
                f"+ quarantined {r['rows_quarantined']:,}; {r['extracts_written']} extracts built, "
                f"{r['emails_sent']} e-mails sent.",
                "",
                "| stage | wall s | rows/s | peak MB |",
                "|---|---:|---:|---:|",
            ]
            for stage in STAGES:
                s = r["stages"][stage]
                per_second = "-" if s["rows_per_second"] is None else f"{s['rows_per_second']:,}"
                lines.append(f"| {stage} | {s['seconds']} | {per_second} | {s['peak_mb']} |")
            lines.append("")
        floor, pandas, ratios = size["floor"], size["pandas"], size["ratios"]
        lines += [
            "| beside it (history) | wall s | product / it |",
            "|---|---:|---:|",
            f"| floor: COPY into bare tables | {floor['copy_seconds']} | {ratios['load_vs_copy']}x (load) |",
            f"| floor: COPY + one SQL contact_centre_daily | "
            f"{round(floor['copy_seconds'] + floor['daily_sql_seconds'], 2)} | "
            f"{ratios['load_and_build_vs_floor']}x (load + dbt build) |",
        ]
        if pandas:
            lines.append(
                f"| pandas read + to_sql | {pandas['seconds']} | {ratios['load_vs_pandas']}x (load) |"
            )
        lines.append("")
    if len(run["sizes"]) > 1:
        lines += [
            "## Growth",
            "",
            "| SCALE | full wall s | full peak MB | incremental wall s | incremental peak MB |",
            "|---:|---:|---:|---:|---:|",
        ]
        for size in run["sizes"]:
            f, i = size["full"], size["incremental"]
            lines.append(
                f"| {size['scale']:g} | {f['wall_seconds']} | {f['peak_mb']} | {i['wall_seconds']} | {i['peak_mb']} |"
            )
        g = run["growth"]
        lines += [
            "",
            f"time ~ SCALE^k: full run k = {g['full_wall_exponent']}, incremental run k = "
            f"{g['incremental_wall_exponent']}; full run peak memory k = {g['full_peak_mb_exponent']}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_pandas":
        pandas_load(sys.argv[2], [Path(p) for p in sys.argv[3:]])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1", help="comma-separated; 1 = 100,000 customers over a year")
    parser.add_argument("--no-pandas", action="store_true", help="leave out the pandas load")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR, help="generated sources and the server")
    args = parser.parse_args()
    scales = [float(s) for s in args.scale.split(",") if s.strip()]

    sizes = [bench_scale(scale, not args.no_pandas, args.bench_dir) for scale in scales]
    run = {"scales": scales, "sizes": sizes, "growth": growth(sizes)}
    out_file = append_run("pipeline", run, directory=args.results_dir)
    latest = json.loads(out_file.read_text())["runs"][-1]
    machine = latest["machine"]
    latest["machine_text"] = f"{machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}"
    summary = markdown(latest)
    (args.results_dir / "pipeline.md").write_text(summary)
    print()
    print(summary)
    print(f"written to {out_file} and {args.results_dir / 'pipeline.md'}")


if __name__ == "__main__":
    main()
