"""Run DAGs to their end one after another in one Airflow process, each as `airflow dags test` runs one.

    python plugins/insight_hub/orchestration/dag_runs.py --logical-date 2026-12-01T00:00:00+00:00 \
        --log-dir .local/logs source_crm transform

`airflow dags test` starts Airflow afresh for every DAG: its CLI, the DAG bag, and the in-process
execution API, whose versioned routes alone take about 5 s to build. Here that start-up happens once.
Each DAG's output goes to `<log-dir>/<dag_id>.log`. On stdout, one line when a DAG starts
(`start <dag_id>`) and one when its run ends (`end <dag_id> <state>`); the runs stop at the first DAG
whose run does not succeed, and the exit code is then 1.

With `--migrate`, Airflow's metadata database is first migrated to the installed Airflow, as `airflow db
migrate` does (output in `<log-dir>/airflow-db-migrate.log`), and `migrated` is printed. With
`--wait-for-manifest`, no DAG is loaded until a line arrives on stdin: the caller is writing the dbt
manifest the transform DAG is rendered from meanwhile (pipeline.run_dags), so this process's start-up and
the migration overlap that. Stdin closed with no line (the manifest could not be built): exit 1, nothing run.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _output_to(log_file: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors 1 and 2, so dbt's and Airflow's output
    too) to `log_file` for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("w") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def keep_out_of_collections() -> None:
    """Leave every object alive now out of Python's cyclic garbage collections from here on.

    This process keeps what it loads (Airflow, cosmos and dbt, the parsed DAGs, each finished DAG run's
    objects) until it exits after the last DAG, yet every full collection walked all of it again: 14 full
    collections of 0.3-0.5 s each, 3.0 s of a 26.5 s `insight-hub run` with nothing new to load (timed
    with gc.callbacks, a one-off). `gc.freeze()` moves the objects alive now into the permanent
    generation, which collections skip; what is created later is collected as before. Objects frozen and
    later dropped are freed by reference counting, or at exit if they sit in a cycle."""
    gc.freeze()


def migrate(log_dir: Path) -> None:
    """`airflow db migrate`, in this process: a no-op when the database is at the installed version."""
    from airflow.cli.cli_parser import get_parser

    log_dir.mkdir(parents=True, exist_ok=True)
    with _output_to(log_dir / "airflow-db-migrate.log"):
        args = get_parser().parse_args(["db", "migrate"])
        args.func(args)


def parse_dags() -> dict:
    """Every DAG of the configured bundles (the dags folder), parsed once and written to the metadata
    database, by id. What `airflow dags test` does for the one DAG it runs (airflow.utils.cli's
    get_bagged_dag), done once for all of them: each parse of the folder renders the transform DAG from
    the dbt manifest and writes all six DAGs again, about 0.25 s a time."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

    manager = DagBundlesManager()
    manager.sync_bundles_to_db()
    dags = {}
    for bundle in manager.get_all_dag_bundles():
        bundle.initialize()
        bag = BundleDagBag(dag_folder=bundle.path, bundle_path=bundle.path, bundle_name=bundle.name)
        sync_bag_to_db(bag, bundle.name, bundle.version)
        dags.update(bag.dags)
    return dags


def run_dags(dag_ids: list[str], logical_date: str, log_dir: Path, report) -> bool:
    """Test each DAG in turn; `report(line)` is told of each start and end. False at the first DAG whose
    run does not succeed."""
    from airflow.sdk import timezone
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    dags = {}

    @providers_configuration_loaded
    def test(dag_id: str) -> str:
        # What `airflow dags test <dag_id> <logical_date>` does; an unknown DAG raises, naming it.
        if not dags:
            dags.update(parse_dags())
        keep_out_of_collections()  # what the DAGs so far left alive
        if dag_id not in dags:
            raise LookupError(
                f"Dag {dag_id!r} could not be found; either it does not exist or it failed to parse."
            )
        dag_run = dags[dag_id].test(logical_date=timezone.parse(logical_date))
        return str(dag_run.state)

    log_dir.mkdir(parents=True, exist_ok=True)
    for dag_id in dag_ids:
        report(f"start {dag_id}")
        with _output_to(log_dir / f"{dag_id}.log"):
            state = test(dag_id)
        report(f"end {dag_id} {state}")
        if state != "success":
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dag_runs.py")
    parser.add_argument("--logical-date", required=True)
    parser.add_argument("--log-dir", type=Path, required=True)
    parser.add_argument("--migrate", action="store_true")
    parser.add_argument("--wait-for-manifest", action="store_true")
    parser.add_argument("dag_ids", nargs="+")
    args = parser.parse_args(argv)
    status = os.fdopen(os.dup(1), "w", buffering=1)
    # Only the start and end lines go to stdout; anything else printed there goes with stderr.
    os.dup2(2, 1)
    if args.migrate:
        migrate(args.log_dir)
        print("migrated", file=status)
    keep_out_of_collections()  # the modules imported so far
    if args.wait_for_manifest and not sys.stdin.readline():
        print("no manifest: stdin closed before the caller said it was written; no DAG run", file=sys.stderr)
        return 1
    ok = run_dags(args.dag_ids, args.logical_date, args.log_dir, lambda line: print(line, file=status))
    return 0 if ok else 1


def _end_without_teardown(status: list[int]) -> None:
    """End the process now, with `status[0]`: the exit handlers registered after this one have run (atexit
    runs the last registered first), so the runs' database sessions are closed and the logs flushed. What
    is skipped is the interpreter's teardown of Airflow's, cosmos' and dbt's modules, object by object:
    about 1.7 s after the last DAG, in which nothing is written."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status[0])


if __name__ == "__main__":
    status = [1]  # until main returns; an uncaught error exits 1 after its traceback is printed
    # Registered before Airflow is imported (the imports are inside the functions), so it runs after
    # every handler Airflow registers.
    atexit.register(_end_without_teardown, status)
    status[0] = main()
    sys.exit(status[0])
