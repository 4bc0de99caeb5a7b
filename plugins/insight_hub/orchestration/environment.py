"""The environment Airflow runs in locally: its home, metadata database, DAGs and the warehouse connection.

Used by `insight-hub run` and `insight-hub airflow`; a deployed Airflow sets the
same variables itself (see docker-compose.yml).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from insight_hub.settings import PROJECT_ROOT, Settings
from insight_hub.warehouse import AIRFLOW_DB, embedded_server, sqlalchemy_url


class AirflowCommandFailed(RuntimeError):
    """An airflow CLI command exited non-zero; the message names it and its log."""


def metadata_db_url(settings: Settings) -> str:
    """Airflow's own database: a user's choice, else the embedded server, else SQLite beside Airflow's home."""
    if settings.airflow_metadata_url:
        return settings.airflow_metadata_url
    if settings.warehouse_url:
        # Nothing embedded starts when the warehouse is elsewhere; keep Airflow's state local.
        return f"sqlite:///{settings.airflow_home / 'airflow.db'}"
    server = embedded_server(settings)
    server.start()
    server.ensure_database(AIRFLOW_DB)
    return sqlalchemy_url(server.url(AIRFLOW_DB))


def airflow_env(settings: Settings, warehouse_url: str) -> dict[str, str]:
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("WAREHOUSE_URL", None)
    env.update(settings.as_env())
    env.update(
        {
            "AIRFLOW_HOME": str(settings.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db_url(settings),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.airflow_home / "logs"),
            f"AIRFLOW_CONN_{settings.warehouse_conn_id.upper()}": warehouse_url,
            # Airflow starts its own components as `airflow ...`: find the one beside this interpreter.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "NO_PROXY": "*",
            # cosmos reports usage to a third party unless told not to.
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        }
    )
    return env


def installed_executable(name: str) -> str:
    """A console script of an installed package: the one beside this interpreter (the project's
    virtualenv), else the one on PATH (an image may install packages' scripts elsewhere, such as a
    user's ~/.local/bin)."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def airflow_executable() -> str:
    return installed_executable("airflow")


def run_airflow(args: list[str], env: dict[str, str], log_file: Path) -> str:
    """Run `airflow <args>` with its output in `log_file`; a failure names the command and the log."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as fh:
        proc = subprocess.run(
            [airflow_executable(), *args], env=env, stdout=fh, stderr=subprocess.STDOUT, check=False
        )
    output = log_file.read_text(errors="replace")
    if proc.returncode != 0:
        raise AirflowCommandFailed(f"`airflow {' '.join(args)}` exited {proc.returncode}; log: {log_file}")
    return output
