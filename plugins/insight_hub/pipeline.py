"""Run the whole pipeline end to end through Airflow itself (each DAG as `airflow dags test` runs it), then summarise it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from insight_hub.demo import DemoConfig, generate
from insight_hub.orchestration import dag_runs
from insight_hub.orchestration.assets import SOURCES
from insight_hub.orchestration.cosmos_config import DBT_PROJECT_DIR, MANIFEST_PATH
from insight_hub.orchestration.environment import airflow_env
from insight_hub.settings import Settings
from insight_hub.sources.files import SourceFileError
from insight_hub.warehouse import ensure_warehouse, warehouse_url


class PipelineFailed(RuntimeError):
    """A DAG run of the pipeline did not succeed."""


@dataclass
class PipelineReport:
    warehouse: str
    landing: Path
    outbox: Path
    dag_runs: dict[str, str] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)


def ensure_landing(settings: Settings, demo: DemoConfig) -> bool:
    """Generate demo sources when the default landing folder has none; returns True when it did.

    A landing folder the user configured (INSIGHT_HUB_LANDING_DIR) must exist: it is never filled with demo data.
    """
    landing = settings.landing_dir
    if settings.landing_dir_override is not None:
        if not landing.is_dir():
            raise SourceFileError(f"landing folder {landing} (INSIGHT_HUB_LANDING_DIR) does not exist")
        return False
    if landing.is_dir() and any(p.is_file() for p in landing.rglob("*") if "_ground_truth" not in p.parts):
        return False
    generate(landing, demo)
    return True


def build_manifest(env: dict[str, str]) -> Path:
    """`dbt parse` writes the manifest cosmos reads; parsing needs no database."""
    dbt = Path(sys.executable).parent / "dbt"
    proc = subprocess.run(
        [
            str(dbt),
            # No colour codes in the error a failed parse raises.
            "--no-use-colors",
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise PipelineFailed(f"dbt parse failed: {(proc.stdout + proc.stderr).strip()[-2000:]}")
    return MANIFEST_PATH


def run_dags(
    dag_ids: list[str], logical_date: str, env: dict[str, str], log_dir: Path, echo
) -> dict[str, str]:
    """Run the DAGs through Airflow, one after another in one process (`orchestration.dag_runs`), each
    to its end as `airflow dags test` would; returns the state each DAG run ended in.

    What Airflow needs first runs side by side, one process per core: that process starts and migrates
    Airflow's metadata database (`airflow db migrate`, a no-op when it is at the installed version) while
    `dbt parse` writes the manifest cosmos renders the transform DAG from; the process loads the DAGs
    once told the manifest is written. A failed parse or migration is raised before any DAG runs."""
    log_dir.mkdir(parents=True, exist_ok=True)
    states: dict[str, str] = {}
    migrated = False
    with (log_dir / "dag-runs.log").open("w") as errors:
        proc = subprocess.Popen(
            [
                # The file itself rather than `-m`: dbt's adapters call inspect.stack() for each behaviour
                # flag, and the frames of runpy (which runs `-m`) belong to no module file, so every such
                # call scanned all of sys.modules; the transform DAG took about 1.7x as long.
                sys.executable,
                dag_runs.__file__,
                "--logical-date",
                logical_date,
                "--log-dir",
                str(log_dir),
                "--migrate",
                "--wait-for-manifest",
                *dag_ids,
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            build_manifest(env)
        except BaseException:
            proc.stdin.close()  # closed with nothing written: the process exits and runs no DAG
            proc.wait()
            raise
        # A process that ended already (its migration failed, raised below) reads nothing.
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.write("manifest written\n")
            proc.stdin.flush()
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
        for line in proc.stdout:
            event, *rest = line.split()
            if event == "migrated":
                migrated = True
            elif event == "start":
                echo(f"running DAG {rest[0]} ...")
            else:
                states[rest[0]] = rest[1]
        proc.wait()
    if not migrated:
        raise PipelineFailed(
            f"`airflow db migrate` failed; see {log_dir / 'airflow-db-migrate.log'} and {log_dir / 'dag-runs.log'}"
        )
    return states


def pipeline_dag_ids() -> list[str]:
    """Every DAG in the order the Asset chain would run them."""
    return [f"source_{s}" for s in SOURCES] + ["transform", "insight"]


def run_pipeline(
    settings: Settings, demo: DemoConfig, echo=print, dag_ids: list[str] | None = None
) -> PipelineReport:
    url = warehouse_url(settings)
    ensure_warehouse(url)
    if ensure_landing(settings, demo):
        echo(
            f"generated demo sources in {settings.landing_dir} ({demo.customers} customers, {demo.days} days)"
        )
    env = airflow_env(settings, url)
    # `dags test` runs each DAG to its end at once: no scheduler watches its deadlines (see Settings).
    env["INSIGHT_HUB_DEADLINE_ALERTS"] = "false"
    log_dir = settings.home / "logs"
    echo("preparing Airflow's metadata database and the dbt manifest ...")
    report = PipelineReport(warehouse=url, landing=settings.landing_dir, outbox=settings.home / "outbox")
    logical_date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    dag_ids = dag_ids or pipeline_dag_ids()
    states = run_dags(dag_ids, logical_date, env, log_dir, echo)
    for dag_id in dag_ids:
        log_file = log_dir / f"{dag_id}.log"
        state = states.get(dag_id)
        if state is None:
            raise PipelineFailed(
                f"DAG {dag_id} did not finish; see {log_file} and {log_dir / 'dag-runs.log'}"
            )
        report.dag_runs[dag_id] = state
        report.logs[dag_id] = log_file
        if state != "success":
            raise PipelineFailed(f"DAG {dag_id} finished {state}; see {log_file}")
    return report
