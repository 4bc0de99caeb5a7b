"""Ingest benchmark: the product's full load of a contact-centre export against the floor and pandas.

    make bench-ingest ROWS=1000000

Each method runs in its own process (peak memory is that process's max RSS) against a fresh database
on the same PostgreSQL, on the same file, in one run:
  floor   plain COPY of the file into a bare all-text table
  pandas  pandas.read_csv + DataFrame.to_sql (chunks of 10,000 rows, SQLAlchemy batched inserts)
  product insight-hub's load: stage (COPY, map, type), validate (Great Expectations), publish, audit;
          each step is timed and reported
and two bounds for any load that types its values in PostgreSQL (not run unless named in --methods):
  typed_copy     COPY straight into a table of the values' types: PostgreSQL parses every value, but
                 one bad value aborts the whole file (PostgreSQL 16's COPY can neither skip nor report a
                 bad row), so it is the floor of a typed load that quarantines nothing
  copy_then_type COPY into a bare all-text table, then one INSERT ... SELECT typing each row into that
                 typed table, rows with a value that does not parse (pg_input_is_valid) left out: the
                 least a typed load that keeps bad rows apart can do, with no mapping, validation,
                 quarantine table or audit
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from results_file import append_run

ROOT = Path(__file__).resolve().parents[1]
HEADER = [
    "Call ID",
    "Media Type",
    "Queue Name",
    "Agent",
    "Customer Account",
    "ANI",
    "Email Address",
    "Queue Start",
    "Answer Time",
    "End Time",
    "Talk Time",
    "Hold Time",
    "ACW Time",
    "Transferred",
    "Disposition",
    "Outcome",
    "Complaint",
    "Notes",
]


def write_export(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, 8)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            queued = start + timedelta(seconds=i * 3)
            answered = queued + timedelta(seconds=rng.randrange(0, 90))
            talk = rng.randrange(30, 900)
            w.writerow(
                [
                    f"INT{i:09d}",
                    rng.choice(["Phone", "Chat", "Email"]),
                    rng.choice(["billing", "orders", "general"]),
                    f"AG{rng.randrange(1, 80):03d}",
                    f"A{rng.randrange(1, 100000):06d}",
                    f"07700{rng.randrange(100000, 999999)}",
                    "",
                    queued.strftime("%Y-%m-%d %H:%M:%S"),
                    answered.strftime("%Y-%m-%d %H:%M:%S"),
                    (answered + timedelta(seconds=talk)).strftime("%Y-%m-%d %H:%M:%S"),
                    talk,
                    0,
                    rng.randrange(10, 90),
                    "N",
                    rng.choice(["billing", "delivery", "product"]),
                    "resolved",
                    "N",
                    "Parcel late again",
                ]
            )


# The export's columns as PostgreSQL types (the bounds'); the rest are text.
TYPES = {
    "Queue Start": "timestamp",
    "Answer Time": "timestamp",
    "End Time": "timestamp",
    "Talk Time": "integer",
    "Hold Time": "integer",
    "ACW Time": "integer",
    "Transferred": "boolean",
    "Complaint": "boolean",
}


def copy_file(conn: psycopg.Connection, table: str, path: Path) -> None:
    with (
        conn.cursor().copy(f"copy {table} from stdin with (format csv, header true)") as cp,
        path.open("rb") as fh,
    ):
        while block := fh.read(1 << 20):
            cp.write(block)


def run_method(method: str, url: str, path: Path) -> dict:
    started = time.perf_counter()
    if method in ("floor", "typed_copy", "copy_then_type"):
        text_cols = ", ".join(f'"{h}" text' for h in HEADER)
        typed_cols = ", ".join(f'"{h}" {TYPES.get(h, "text")}' for h in HEADER)
        with psycopg.connect(url, autocommit=True) as conn:
            if method == "floor":
                conn.execute(f"create table bare ({text_cols})")
                copy_file(conn, "bare", path)
            elif method == "typed_copy":
                conn.execute(f"create table typed ({typed_cols})")
                copy_file(conn, "typed", path)
            else:
                conn.execute(f"create table bare ({text_cols})")
                conn.execute(f"create table typed ({typed_cols})")
                copy_file(conn, "bare", path)
                casts = ", ".join(f'"{h}"::{TYPES[h]}' if h in TYPES else f'"{h}"' for h in HEADER)
                parses = " and ".join(
                    f'("{h}" is null or pg_input_is_valid("{h}", \'{t}\'))' for h, t in TYPES.items()
                )
                conn.execute(f"insert into typed select {casts} from bare where {parses}")
    elif method == "pandas":
        import pandas as pd
        import sqlalchemy as sa

        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        frame = pd.read_csv(path)
        frame.to_sql("calls", engine, if_exists="replace", index=False, chunksize=10_000)
        engine.dispose()
    else:
        # load_file's three steps, called one by one so each is timed (load_file adds nothing between them).
        from insight_hub.ingest.load import publish_batch, stage_batch, validate_batch
        from insight_hub.sources.registry import Registry

        _, mapping = Registry(ROOT / "examples" / "demo" / "sources.yaml").entity("interaction")
        marks = [("start", time.perf_counter())]
        staged = stage_batch(url, "contact_centre", path, mapping)
        marks.append(("stage (COPY, map, type)", time.perf_counter()))
        import great_expectations  # noqa: F401  (timed apart: a fixed cost of every validating process)

        marks.append(("import Great Expectations", time.perf_counter()))
        validate_batch(url, staged.batch_id, ROOT / "expectations" / "interaction.json")
        marks.append(("validate (suite in SQL, quarantine)", time.perf_counter()))
        result = publish_batch(url, staged.batch_id)
        marks.append(("publish (raw, quarantine, audit)", time.perf_counter()))
        assert (
            result.status == "published" and result.rows_read == result.rows_loaded + result.rows_quarantined
        )
        steps = {name: round(t - marks[i][1], 2) for i, (name, t) in enumerate(marks[1:])}
    seconds = time.perf_counter() - started
    figures = {"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if method == "product":
        figures["steps"] = steps
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--methods", nargs="+", default=["floor", "pandas", "product"])
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        # The URL (with its password) comes through the environment, never the command line.
        print(json.dumps(run_method(args.one[0], os.environ["BENCH_DATABASE_URL"], Path(args.one[1]))))
        return

    from insight_hub.warehouse import embedded_server, warehouse_url

    base = warehouse_url()
    server = embedded_server()
    work = ROOT / ".local" / "bench"
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in args.rows:
        path = work / f"calls_{rows}.csv"
        if not path.exists():
            write_export(path, rows)
        for method in args.methods:
            db = f"bench_{method}"
            with psycopg.connect(
                server.url("postgres") if not base.endswith("/postgres") else base, autocommit=True
            ) as c:
                c.execute(f'drop database if exists "{db}" with (force)')
                c.execute(f'create database "{db}"')
            url = base.rsplit("/", 1)[0] + "/" + db
            out = subprocess.run(
                [sys.executable, __file__, "--one", method, str(path)],
                env={**os.environ, "BENCH_DATABASE_URL": url},
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(f"{method} failed:\n{out.stderr[-3000:]}")
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            figures.update({"rows": rows, "method": method, "file_mb": round(path.stat().st_size / 2**20, 1)})
            results.append(figures)
            print(
                f"{rows:>10,} rows  {method:<8} {figures['seconds']:8.1f} s  {rows / figures['seconds']:>10,.0f} rows/s"
                f"  peak {figures['peak_rss_mb']:7.0f} MB",
                flush=True,
            )
            for step, step_seconds in figures.get("steps", {}).items():
                print(f"{'':>29}{step:<38}{step_seconds:6.1f} s", flush=True)
    for rows in args.rows:
        by = {r["method"]: r for r in results if r["rows"] == rows}
        if "floor" in by:
            for method in ("pandas", "product", "typed_copy", "copy_then_type"):
                if method in by:
                    print(
                        f"{rows:,} rows: {method} takes {by[method]['seconds'] / by['floor']['seconds']:.2f}x the COPY floor"
                    )
    # Each invocation is one run; ratios are only ever taken within a run. Earlier runs are kept.
    out_file = append_run("ingest", {"results": results})
    print(f"written to {out_file}")


if __name__ == "__main__":
    main()
