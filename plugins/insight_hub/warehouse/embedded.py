"""An embedded PostgreSQL server the product manages itself.

The server binaries come from the `pgserver` wheel; this module only decides
where the data lives, which port it listens on, and how it is started and
stopped. Unlike `pgserver.get_server`, the server outlives the process that
started it, so Airflow tasks, dbt and the CLI all talk to one instance over
TCP on 127.0.0.1 with a generated password.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; when the product is run as root the server
# runs as this system user instead (created on first use).
SERVICE_USER = "pgserver"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or stopped."""


def _pg_bin_path() -> Path:
    # Importing pgserver warns about XDG_RUNTIME_DIR, which only its own server class uses.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


def _is_postgres_process(pid: int) -> bool:
    """Whether `pid` (from a data directory's postmaster.pid) is a live PostgreSQL server. The lock file
    outlives a server that was killed or a machine that restarted, and its pid may by then belong to
    another process; where /proc shows the command, that process must be `postgres`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, under another user (the service user)
    if not Path("/proc/self/cmdline").exists():
        return True
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except FileNotFoundError:
        return False  # ended since
    except OSError:
        return True
    return Path(command.decode(errors="replace")).name in ("postgres", "postmaster")


def _bin(name: str) -> str:
    return str(_pg_bin_path() / name)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    port: int | None
    pid: int | None
    data_dir: Path


# The cluster lives on the machine's own disk, and a warehouse's working set stays in the OS page cache,
# so reading a page out of order costs about what reading the next one does. PostgreSQL's default
# random_page_cost (4, for spinning disks) made it scan and hash a 2-million-row fact table to look up
# a day's twelve thousand keys; at 1.1 it reads them through the table's index.
PLANNER_SETTINGS = "-c random_page_cost=1.1"


def parallel_workers_per_gather(cores: int, dbt_threads: int) -> int:
    """How many parallel workers PostgreSQL may add to one query on a server with `cores` cores that dbt
    builds `dbt_threads` models on at once.

    Each of dbt's threads keeps a backend busy, so a query's workers only use the cores the other threads
    leave: none while dbt has as many threads as the machine has cores. Where there is no core to spare,
    PostgreSQL's default (two workers a query) makes a worker take its core from another model's query,
    and splitting a query costs CPU of its own: the workers build a shared hash table in batches and pass
    their rows to the leader through a queue. On the hub benchmark's two-core machine, with no workers
    both the daily and the full build take less CPU and less time (README, "Hub benchmark")."""
    return max(0, cores // dbt_threads - 1)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a container's cpuset narrows)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def server_settings() -> str:
    """The settings the embedded server starts with (`postgres -c ...`): the planner's, and the parallel
    workers a query may add on this machine for the dbt threads the transform runs."""
    from insight_hub.orchestration.cosmos_config import DBT_THREADS

    workers = parallel_workers_per_gather(available_cores(), DBT_THREADS)
    return f"{PLANNER_SETTINGS} -c max_parallel_workers_per_gather={workers}"


class EmbeddedPostgres:
    """One PostgreSQL cluster under `root` (data, password, port, log)."""

    def __init__(self, root: Path, preferred_port: int = 55432) -> None:
        self.root = Path(root).resolve()
        self.preferred_port = preferred_port

    # -- files -------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def _password_file(self) -> Path:
        return self.root / "password"

    @property
    def _port_file(self) -> Path:
        return self.root / "port"

    @property
    def _socket_dir(self) -> Path:
        return self.root / "run"

    # -- running as a non-root user when needed -----------------------------
    def _run_as(self) -> str | None:
        return SERVICE_USER if os.name == "posix" and os.geteuid() == 0 else None

    def _prepare_permissions(self) -> None:
        user = self._run_as()
        if user is None:
            return
        import pwd
        import stat

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        POSTGRES_BIN_PATH = _pg_bin_path()  # noqa: N806

        ensure_user_exists(user)
        ensure_prefix_permissions(self.root)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(POSTGRES_BIN_PATH, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        entry = pwd.getpwnam(user)
        for path in (self.root, self.data_dir, self._socket_dir):
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if self.log_file.exists():
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        else:
            self.log_file.touch()
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, user=self._run_as(), capture_output=True, text=True, timeout=timeout, check=False
        )

    # -- lifecycle -----------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def password(self) -> str:
        return self._password_file.read_text().strip()

    def port(self) -> int:
        if self._port_file.exists():
            return int(self._port_file.read_text().strip())
        return self.preferred_port

    def init(self) -> None:
        if self.initialised:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        if not self._password_file.exists():
            self._password_file.write_text(secrets.token_urlsafe(24))
            self._password_file.chmod(0o600)
        self._prepare_permissions()
        pwfile = self._socket_dir / "initdb.pw"
        pwfile.write_text(self.password())
        if self._run_as():
            import pwd

            entry = pwd.getpwnam(self._run_as())
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            result = self._run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--encoding=UTF8",
                    "--locale=C",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ],
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed for {self.data_dir}: {result.stderr.strip() or result.stdout.strip()}"
            )

    def status(self) -> ServerStatus:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return ServerStatus(False, None, None, self.data_dir)
        lines = pid_file.read_text().splitlines()
        pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
        port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
        alive = pid is not None and _is_postgres_process(pid)
        return ServerStatus(alive, port if alive else None, pid if alive else None, self.data_dir)

    def start(self) -> ServerStatus:
        """Initialise when needed and start the server; a running server is left as it is."""
        self.init()
        current = self.status()
        if current.running:
            return current
        self._prepare_permissions()
        port = self.port()
        if port == 0 or not _port_is_free(port):
            port = _free_port()
        self._port_file.write_text(str(port))
        result = self._run(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                f"-h 127.0.0.1 -p {port} -k {self._socket_dir} {server_settings()}",
                "start",
            ],
            timeout=90,
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise EmbeddedPostgresError(
                f"could not start PostgreSQL in {self.data_dir} on 127.0.0.1:{port}: "
                f"{result.stderr.strip() or result.stdout.strip()}\n{tail}"
            )
        return self.status()

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server (pg_ctl's shutdown `mode`: smart, fast, or immediate, which is a crash that the
        next start recovers from); returns False when it was not running."""
        if not self.status().running:
            return False
        result = self._run([_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"])
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"could not stop PostgreSQL in {self.data_dir}: {result.stderr.strip()}"
            )
        return True

    def ensure_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))

    def url(self, database: str) -> str:
        return (
            f"postgresql://{SUPERUSER}:{quote(self.password(), safe='')}@127.0.0.1:{self.port()}/{database}"
        )
