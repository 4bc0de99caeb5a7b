"""Airflow as an operator runs it, for end-to-end tests: API server, scheduler, DAG processor and triggerer
(LocalExecutor) on a metadata database of their own on the embedded PostgreSQL."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from insight_hub.orchestration.environment import airflow_env, airflow_executable, run_airflow
from insight_hub.pipeline import build_manifest
from insight_hub.settings import Settings
from insight_hub.warehouse.embedded import _free_port

COMPONENTS = {
    "api-server": ["api-server", "--port", "{port}"],
    "scheduler": ["scheduler"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer"],
}


# Where each row came from differs between two loads of the same files; everything else must match.
RAW_FINGERPRINT = """
    select count(*), md5(coalesce(string_agg(row_data, '|' order by row_data), ''))
    from (select (to_jsonb(r) - '_batch_id' - '_batch_key' - '_source_file' - '_loaded_at')::text as row_data
          from raw.{entity} r) rows
"""


def raw_fingerprints(url: str, entities: tuple[str, ...]) -> dict[str, tuple]:
    """Per entity (count, checksum) of its raw rows, and the load batches by status."""
    with psycopg.connect(url) as conn:
        fingerprints = {e: conn.execute(RAW_FINGERPRINT.format(entity=e)).fetchone() for e in entities}
        fingerprints["batches"] = conn.execute(
            "select status, count(*) from ops.load_batch group by status order by status"
        ).fetchall()
    return fingerprints


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')


class RunningAirflow:
    def __init__(self, env: dict[str, str], metadata_url: str, logs: Path) -> None:
        self.env, self.metadata_url, self.logs = env, metadata_url, logs
        self.procs: dict[str, subprocess.Popen] = {}

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows from Airflow's metadata database."""
        with psycopg.connect(self.metadata_url) as conn:
            return conn.execute(sql, params).fetchall()

    def cli(self, *args: str) -> str:
        return run_airflow(list(args), self.env, self.logs / f"cli-{'-'.join(args[:2])}.log")

    def run_states(self) -> str:
        """Every DAG run's state, and each task instance that did not succeed or skip: where a run
        stopped, put ahead of the log tails so a truncated failure message still shows it."""
        try:
            runs = self.query("select dag_id, run_id, state from dag_run order by id")
            tasks = self.query(
                "select dag_id, task_id, state, try_number from task_instance "
                "where state is distinct from 'success' and state is distinct from 'skipped' "
                "order by dag_id, task_id"
            )
        except psycopg.Error as exc:
            return f"--- run states: metadata database not readable ({exc})"
        lines = [f"--- DAG runs: {len(runs)}", *(f"{d} {r} {s}" for d, r, s in runs)]
        lines += [f"--- tasks not succeeded or skipped: {len(tasks)}"]
        lines += [f"{d}.{t} {s} (try {n})" for d, t, s, n in tasks[:40]]
        return "\n".join(lines)

    def log_tails(self, lines: int = 12) -> str:
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in sorted(self.logs.glob("*.log"))
        )

    def wait_for(self, what: str, check, timeout: float, interval: float = 3):
        """Poll `check` until it returns something true; fail naming `what` (with the components' last
        log lines) on timeout or when a component dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
            assert not dead, (
                f"Airflow components exited while waiting for {what}: {dead}\n"
                f"{self.run_states()}\n{self.log_tails()}"
            )
            time.sleep(interval)
        raise AssertionError(
            f"timed out after {timeout:.0f}s waiting for {what}\n{self.run_states()}\n{self.log_tails()}"
        )

    def wait_for_dags(self, *dag_ids: str) -> None:
        self.wait_for(
            "the DAG processor to serialise the DAGs",
            lambda: (
                self.query("select count(*) from dag where dag_id = any(%s)", list(dag_ids))[0][0]
                == len(dag_ids)
            ),
            timeout=300,
        )


@contextmanager
def running_airflow(
    settings: Settings, warehouse_url: str, metadata_url: str, **extra_env: str
) -> Iterator[RunningAirflow]:
    """Migrate the metadata database, start the four components, and stop them (the whole process
    group of each) on exit. `settings` must name `metadata_url` as Airflow's database."""
    api_port = _free_port()
    env = airflow_env(settings, warehouse_url)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "3",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            **extra_env,
        }
    )
    airflow = RunningAirflow(env, metadata_url, settings.home / "logs")
    build_manifest(env)
    run_airflow(["db", "migrate"], env, airflow.logs / "airflow-db-migrate.log")
    try:
        for name, args in COMPONENTS.items():
            with (airflow.logs / f"{name}.log").open("w") as log:
                airflow.procs[name] = subprocess.Popen(
                    [airflow_executable(), *(a.format(port=api_port) for a in args)],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        yield airflow
    finally:
        for proc in airflow.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in airflow.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
