"""Point a new Metabase at the warehouse's marts through its read-only login, through Metabase's own API.

Run once by docker-compose's `metabase-setup` service after Metabase reports healthy; safe to run again:
  1. a Metabase not yet set up gets its first admin (POST /api/setup with the setup token from
     GET /api/session/properties); one already set up is logged into with the same admin (POST /api/session);
  2. the warehouse is added as a PostgreSQL database, read as METABASE_WAREHOUSE_USER (a member of
     bi_reader) and limited to the `marts` schema, unless a database of that name is already there.

Standard library only: it runs in a plain python image, not the product's. Settings come from the
environment (see docker-compose.yml); no password is ever printed.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

DATABASE_NAME = "Customer Insight Hub"
WAIT_SECONDS = 300


class SetupError(RuntimeError):
    """Metabase refused a step; the message names the step and Metabase's answer."""


def _call(base: str, method: str, path: str, body: dict | None = None, session: str | None = None):
    headers = {"Content-Type": "application/json"}
    if session:
        headers["X-Metabase-Session"] = session
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as exc:
        raise SetupError(
            f"{method} {path}: Metabase answered {exc.code}: {exc.read().decode()[:500]}"
        ) from exc
    return json.loads(text) if text else None


def wait_until_healthy(base: str, wait_seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            if (_call(base, "GET", "/api/health") or {}).get("status") == "ok":
                return
        except (OSError, SetupError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise SetupError(f"Metabase at {base} was not healthy within {wait_seconds:.0f} s")
        time.sleep(2)


def admin_session(base: str, email: str, password: str) -> str:
    """A session for the admin: created with the setup token on a new Metabase, logged into otherwise."""
    properties = _call(base, "GET", "/api/session/properties")
    if not properties.get("has-user-setup"):
        answer = _call(
            base,
            "POST",
            "/api/setup",
            {
                "token": properties["setup-token"],
                "user": {
                    "email": email,
                    "password": password,
                    "first_name": "Insight Hub",
                    "last_name": "Admin",
                    "site_name": DATABASE_NAME,
                },
                "prefs": {"site_name": DATABASE_NAME, "allow_tracking": False},
            },
        )
        return answer["id"]
    return _call(base, "POST", "/api/session", {"username": email, "password": password})["id"]


def ensure_warehouse(base: str, session: str, details: dict) -> tuple[int, bool]:
    """(the warehouse's Metabase database id, whether it was added now)."""
    listed = _call(base, "GET", "/api/database", session=session)
    databases = listed.get("data", []) if isinstance(listed, dict) else listed
    for database in databases:
        if database.get("name") == DATABASE_NAME:
            return database["id"], False
    added = _call(
        base,
        "POST",
        "/api/database",
        {"engine": "postgres", "name": DATABASE_NAME, "details": details},
        session=session,
    )
    return added["id"], True


def warehouse_details(env: dict[str, str]) -> dict:
    return {
        "host": env["METABASE_WAREHOUSE_HOST"],
        "port": int(env.get("METABASE_WAREHOUSE_PORT", "5432")),
        "dbname": env["METABASE_WAREHOUSE_DB"],
        "user": env["METABASE_WAREHOUSE_USER"],
        "password": env["METABASE_WAREHOUSE_PASSWORD"],
        "ssl": False,
        # BI users see the marts only; the login could not read the other schemas anyway.
        "schema-filters-type": "inclusion",
        "schema-filters-patterns": "marts",
    }


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    required = [
        "METABASE_URL",
        "METABASE_ADMIN_EMAIL",
        "METABASE_ADMIN_PASSWORD",
        "METABASE_WAREHOUSE_HOST",
        "METABASE_WAREHOUSE_DB",
        "METABASE_WAREHOUSE_USER",
        "METABASE_WAREHOUSE_PASSWORD",
    ]
    missing = [name for name in required if not env.get(name)]
    if missing:
        print(f"metabase setup: missing environment variables: {', '.join(missing)}", file=sys.stderr)
        return 2
    base = env["METABASE_URL"]
    try:
        wait_until_healthy(base, float(env.get("METABASE_WAIT_SECONDS", WAIT_SECONDS)))
        session = admin_session(base, env["METABASE_ADMIN_EMAIL"], env["METABASE_ADMIN_PASSWORD"])
        database_id, added = ensure_warehouse(base, session, warehouse_details(env))
    except SetupError as exc:
        print(f"metabase setup failed: {exc}", file=sys.stderr)
        return 1
    user = env["METABASE_WAREHOUSE_USER"]
    state = "added" if added else "already there"
    print(f"metabase: database {database_id} '{DATABASE_NAME}' {state}, read as {user} (marts only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
