"""Shared fixtures: a real embedded PostgreSQL per test session, under a temporary home."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from insight_hub.settings import Settings
from insight_hub.warehouse import embedded_server, warehouse_url

ROOT = Path(__file__).resolve().parents[1]


def make_settings(home: Path, **overrides) -> Settings:
    """Settings as the product would read them from the environment, rooted at `home`."""
    values = {"INSIGHT_HUB_HOME": str(home), "INSIGHT_HUB_PG_PORT": 0, "WAREHOUSE_URL": None}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def pg_home() -> Iterator[Path]:
    with server_home("hub") as home:
        yield home


@contextmanager
def server_home(name: str) -> Iterator[Path]:
    """A home for an embedded PostgreSQL outside pytest's temporary folders: when running as root the
    server runs as the `pgserver` user, and every pytest session that starts resets
    /tmp/pytest-of-<user> to mode 0700, which would lock a running server out of its own data."""
    home = Path(tempfile.mkdtemp(prefix=f"insight-hub-test-{name}-"))
    home.chmod(0o755)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(pg_home) -> Settings:
    return make_settings(pg_home)


@pytest.fixture(scope="session")
def warehouse(settings):
    """URL of the session's warehouse database on a real embedded PostgreSQL."""
    url = warehouse_url(settings)
    yield url
    embedded_server(settings).stop()


@pytest.fixture
def fresh_db(warehouse, settings, request):
    """A new empty database on the session's server, dropped after the test."""
    server = embedded_server(settings)
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:50]
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    yield server.url(name)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


__all__ = ["ROOT", "make_settings"]


def run_dbt(url: str, target: Path, *args: str) -> subprocess.CompletedProcess:
    """The dbt CLI against `url`, compiling into `target` (so tests never share dbt's files)."""
    from insight_hub.orchestration.cosmos_config import DBT_EXECUTABLE, DBT_PROJECT_DIR
    from insight_hub.warehouse import dbt_env

    return subprocess.run(
        [str(DBT_EXECUTABLE), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target)],
        env=dbt_env(url), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@contextmanager
def smtp_server(
    credentials: tuple[str, str] | None = None, smtputf8: bool = False
) -> Iterator[tuple[int, list]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; yields (port, messages received as email.message objects).

    With `credentials` (login, password) it refuses mail from a client that has not logged in with them;
    with `smtputf8` it takes addresses that are not ASCII (RFC 6531)."""
    import email
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content)
            message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            message["X-Envelope-From"] = envelope.mail_from
            received.append(message)
            return "250 OK"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (credentials)
        return AuthResult(success=ok)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    auth = (
        {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
        if credentials
        else {}
    )
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8, **auth)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


@pytest.fixture
def smtp_inbox():
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def airflow_smtp(smtp_inbox, monkeypatch):
    """A real SMTP server as Airflow's smtp_default connection; yields the messages it receives."""
    port, inbox = smtp_inbox
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{port}?disable_ssl=true&disable_tls=true&timeout=10&retry_limit=0",
    )
    return inbox


def html_body(message) -> str:
    """The HTML part of an e-mail, decoded."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return part.get_payload(decode=True).decode()
