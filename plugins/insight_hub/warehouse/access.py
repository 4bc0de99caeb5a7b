"""Who may read what in the warehouse, and the key behind customers' keyed hashes.

Two group roles (NOLOGIN; give people or BI tools a login role that is a member):
  bi_reader   SELECT on the `marts` schema only, where personal data appears only masked or as
              keyed hashes;
  pii_reader  also SELECT on `marts_pii`, which holds the customer's name, e-mail and phone.
dbt grants SELECT on every mart it builds (dbt_project.yml `grants`), so a rebuild keeps them; the
schemas dbt builds into, and USAGE on them, are set up here once before dbt runs (see DBT_SCHEMAS).

Keyed hashes are HMAC-SHA256 with a secret key (INSIGHT_HUB_PII_KEY, or one generated under the
home folder). PostgreSQL has SHA-256 but no HMAC without pgcrypto, so the key is stored as its two
HMAC pads in `ops.pii_key`, readable by the warehouse owner only; SQL computes
sha256(opad || sha256(ipad || message)). The key never appears in SQL text, dbt's compiled files,
or logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import psycopg
from psycopg import sql

from insight_hub.warehouse.schema import DDL_LOCK

READER_ROLES = ("bi_reader", "pii_reader")
# The schemas the dbt project builds into (its `+schema` configs), and the roles that may use each. They
# are created here, before any dbt runs, because the transform may run several dbt at once (after a retried
# or cleared build, each model's task builds its model itself): each would otherwise create its schema and
# grant USAGE itself, and concurrent CREATE SCHEMA or GRANT on one schema fail in PostgreSQL ("duplicate key
# value", "tuple concurrently updated").
DBT_SCHEMAS: dict[str, tuple[str, ...]] = {
    "staging": (),
    "intermediate": (),
    "marts": READER_ROLES,
    "marts_pii": ("pii_reader",),
}
BLOCK = 64  # SHA-256 block size in bytes


class AccessSetupError(RuntimeError):
    """The warehouse user cannot create the reader roles; the message says what to run instead."""


def pii_key(explicit: str | None, home: Path) -> bytes:
    """The HMAC key: INSIGHT_HUB_PII_KEY when set, else one generated once and kept in <home>/pii_key."""
    if explicit:
        return explicit.encode()
    path = home / "pii_key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """(key xor ipad, key xor opad), as RFC 2104 defines them for a 64-byte block."""
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def keyed_hash(key: bytes, value: str) -> str:
    """What the SQL keyed_hash macro computes, for tests and for matching from Python."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def ensure_access(conn: psycopg.Connection, key: bytes) -> None:
    """Create the reader roles and dbt's schemas with their USAGE grants when missing, and store the key's
    pads (idempotent). One transaction under the DDL lock, so preparations at once do not race."""
    inner, outer = hmac_pads(key)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        for role in READER_ROLES:
            _ensure_role(conn, role)
        for schema, roles in DBT_SCHEMAS.items():
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            for role in roles:
                granted = conn.execute("select has_schema_privilege(%s, %s, 'USAGE')", (role, schema))
                if not granted.fetchone()[0]:
                    conn.execute(
                        sql.SQL("grant usage on schema {} to {}").format(
                            sql.Identifier(schema), sql.Identifier(role)
                        )
                    )
        # set_at: when the key last changed (added to a table made before it had one). dim_customer writes
        # only the customers that changed, so a new key must make it hash every customer again.
        conn.execute("create table if not exists ops.pii_key (ipad bytea not null, opad bytea not null)")
        conn.execute(
            "alter table ops.pii_key add column if not exists set_at timestamptz not null default now()"
        )
        conn.execute("revoke all on ops.pii_key from public")
        same = conn.execute(
            "select 1 from ops.pii_key where ipad = %s and opad = %s", (inner, outer)
        ).fetchone()
        if same is None:
            conn.execute("delete from ops.pii_key")
            conn.execute("insert into ops.pii_key (ipad, opad) values (%s, %s)", (inner, outer))


def _ensure_role(conn: psycopg.Connection, role: str) -> None:
    """Roles belong to the whole server, beyond the DDL lock of one database: a role another database's
    preparation creates at the same moment counts as created."""
    if conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
        return
    try:
        with conn.transaction():  # a savepoint: the enclosing transaction survives a lost race
            conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass
    except psycopg.errors.InsufficientPrivilege as exc:
        raise AccessSetupError(
            "the warehouse user may not create roles; ask an administrator to run "
            "`create role bi_reader nologin; create role pii_reader nologin;` once"
        ) from exc
