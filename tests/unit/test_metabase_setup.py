"""docker/metabase_setup.py against a stand-in for Metabase's setup API on 127.0.0.1 (Metabase itself is a
JVM server that cannot be installed here): a new Metabase gets its admin and the warehouse, read through the
bi_reader login and limited to marts; a second run logs in and adds nothing; refusals are named."""

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("metabase_setup", ROOT / "docker" / "metabase_setup.py")
metabase_setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(metabase_setup)

ADMIN = ("admin@hub.example", "a-long-admin-password")


class StandIn:
    """The endpoints the script calls, with Metabase's rules: one setup, with its token; sessions required."""

    def __init__(self) -> None:
        self.token = "setup-token-123"
        self.users: dict[str, str] = {}
        self.databases: list[dict] = []
        self.calls: list[tuple[str, str]] = []
        self.sessions = {"s-1"}

    def handle(self, method: str, path: str, body: dict | None, session: str | None):
        self.calls.append((method, path))
        if (method, path) == ("GET", "/api/health"):
            return 200, {"status": "ok"}
        if (method, path) == ("GET", "/api/session/properties"):
            return 200, {
                "has-user-setup": bool(self.users),
                "setup-token": None if self.users else self.token,
            }
        if (method, path) == ("POST", "/api/setup"):
            if self.users or body.get("token") != self.token:
                return 403, {"message": "Token does not match the setup token."}
            self.users[body["user"]["email"]] = body["user"]["password"]
            return 200, {"id": "s-1"}
        if (method, path) == ("POST", "/api/session"):
            if self.users.get(body["username"]) != body["password"]:
                return 401, {"errors": {"password": "did not match stored password"}}
            return 200, {"id": "s-1"}
        if session not in self.sessions:
            return 401, "Unauthenticated"
        if (method, path) == ("GET", "/api/database"):
            return 200, {"data": [{"id": d["id"], "name": d["name"]} for d in self.databases]}
        if (method, path) == ("POST", "/api/database"):
            database = {"id": len(self.databases) + 1, **body}
            self.databases.append(database)
            return 200, {"id": database["id"], "name": body["name"]}
        return 404, {"message": f"no {method} {path}"}


@pytest.fixture
def metabase():
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, answer = stand_in.handle(method, self.path, body, self.headers.get("X-Metabase-Session"))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._answer("GET")

        def do_POST(self):  # noqa: N802
            self._answer("POST")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _env(url: str, **overrides) -> dict[str, str]:
    env = {
        "METABASE_URL": url,
        "METABASE_ADMIN_EMAIL": ADMIN[0],
        "METABASE_ADMIN_PASSWORD": ADMIN[1],
        "METABASE_WAREHOUSE_HOST": "warehouse",
        "METABASE_WAREHOUSE_PORT": "5432",
        "METABASE_WAREHOUSE_DB": "insight_hub",
        "METABASE_WAREHOUSE_USER": "metabase",
        "METABASE_WAREHOUSE_PASSWORD": "reader-password",
        "METABASE_WAIT_SECONDS": "5",
    }
    return env | overrides


def test_a_new_metabase_gets_its_admin_and_the_marts_through_the_reader_login(metabase, capsys):
    stand_in, url = metabase
    assert metabase_setup.main(_env(url)) == 0
    assert stand_in.users == {ADMIN[0]: ADMIN[1]}
    assert len(stand_in.databases) == 1
    database = stand_in.databases[0]
    assert database["engine"] == "postgres" and database["name"] == "Customer Insight Hub"
    assert database["details"] == {
        "host": "warehouse",
        "port": 5432,
        "dbname": "insight_hub",
        "user": "metabase",
        "password": "reader-password",
        "ssl": False,
        "schema-filters-type": "inclusion",
        "schema-filters-patterns": "marts",
    }
    out = capsys.readouterr()
    assert "database 1 'Customer Insight Hub' added, read as metabase (marts only)" in out.out
    assert "reader-password" not in out.out + out.err and ADMIN[1] not in out.out + out.err


def test_running_it_again_logs_in_and_adds_nothing(metabase, capsys):
    stand_in, url = metabase
    assert metabase_setup.main(_env(url)) == 0
    calls_before = len(stand_in.calls)
    assert metabase_setup.main(_env(url)) == 0
    second = stand_in.calls[calls_before:]
    assert ("POST", "/api/session") in second
    assert ("POST", "/api/setup") not in second and ("POST", "/api/database") not in second
    assert len(stand_in.databases) == 1
    assert "already there" in capsys.readouterr().out


def test_a_refusal_is_named_and_fails(metabase, capsys):
    stand_in, url = metabase
    assert metabase_setup.main(_env(url)) == 0
    assert metabase_setup.main(_env(url, METABASE_ADMIN_PASSWORD="not-the-password")) == 1
    err = capsys.readouterr().err
    assert "metabase setup failed: POST /api/session: Metabase answered 401" in err
    assert "not-the-password" not in err


def test_missing_settings_are_listed(capsys):
    assert metabase_setup.main({"METABASE_URL": "http://127.0.0.1:9"}) == 2
    err = capsys.readouterr().err
    assert "missing environment variables: METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD" in err


def test_a_metabase_that_never_comes_up_is_reported():
    with pytest.raises(metabase_setup.SetupError, match="was not healthy within 1 s"):
        metabase_setup.wait_until_healthy("http://127.0.0.1:9", wait_seconds=1)
