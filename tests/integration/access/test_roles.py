"""bi_reader sees marts and nothing else; pii_reader also sees marts_pii; grants survive a rebuild;
e-mail and phone reach marts only masked or as keyed hashes that match HMAC-SHA256 with the key."""

import os
import subprocess
import threading
import uuid
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from insight_hub.ingest.load import load_file
from insight_hub.sources.registry import Registry
from insight_hub.warehouse import embedded_server
from insight_hub.warehouse.access import ensure_access, keyed_hash
from insight_hub.warehouse.embedded import _pg_bin_path
from insight_hub.warehouse.schema import ensure_all
from tests.conftest import ROOT, run_dbt

pytestmark = pytest.mark.integration

KEY = b"test-key-not-a-secret"
REGISTRY = Registry(ROOT / "examples" / "demo" / "sources.yaml")


def _dbt(url, tmp_path, *args):
    out = run_dbt(url, tmp_path / "target", *args)
    assert out.returncode == 0, out.stdout[-3000:]


def _login(url, role, password):
    return f"postgresql://{role}:{password}@{url.split('@', 1)[1]}"


@pytest.fixture(scope="module")
def hub(warehouse, settings, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("access")
    server = embedded_server(settings)
    url = server.url("t_access")
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists t_access with (force)")
        conn.execute("create database t_access")
    (tmp / "accounts.csv").write_text(
        "AccountId,AccountName,Segment,Region,OwnerId,CreatedDate\nA1,Jo Bloggs,consumer,north,O1,2025-01-02 10:00:00\n"
    )
    (tmp / "contacts.csv").write_text(
        "ContactId,AccountId,FirstName,LastName,Email,Phone,MailingPostalCode,HasOptedInToEmail\n"
        "C1,A1,Jo,Bloggs, Jo.Bloggs@Example.com ,07700 900123,SW1A 1AA,Y\n"
    )
    for entity, name in (("account", "accounts.csv"), ("contact", "contacts.csv")):
        load_file(
            url, "crm", tmp / name, REGISTRY.entity(entity)[1], ROOT / "expectations" / f"{entity}.json"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_all(conn)
        ensure_access(conn, KEY)
        suffix = uuid.uuid4().hex[:8]
        users = {"bi": f"bi_{suffix}", "pii": f"pii_{suffix}"}
        conn.execute(f"create role {users['bi']} login password 'bi-pass' in role bi_reader")
        conn.execute(f"create role {users['pii']} login password 'pii-pass' in role pii_reader")
    _dbt(url, tmp, "build")
    return {
        "url": url,
        "tmp": tmp,
        "bi": _login(url, users["bi"], "bi-pass"),
        "pii": _login(url, users["pii"], "pii-pass"),
    }


DENIED_TO_BI = [
    "select * from marts_pii.dim_customer_pii",
    "select * from raw.contact",
    "select * from staging.stg_crm__contacts",
    "select * from intermediate.int_customer_contact_details",
    "select * from quarantine.contact",
    "select * from ops.load_batch",
    "select * from ops.pii_key",
    "insert into marts.dim_customer (customer_id) values ('X')",
    "update marts.dim_customer set segment = 'x'",
    "delete from marts.dim_customer",
    "create table marts.mine (x int)",
]


@pytest.mark.parametrize("statement", DENIED_TO_BI)
def test_bi_reader_is_denied(hub, statement):
    with psycopg.connect(hub["bi"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_bi_reader_reads_marts_and_sees_only_masked_or_hashed_personal_data(hub):
    with psycopg.connect(hub["bi"]) as conn:
        row = conn.execute(
            "select customer_id, email_masked, phone_masked, email_hash, phone_hash, postcode_district "
            "from marts.dim_customer"
        ).fetchone()
        assert conn.execute("select count(*) from marts.customer_360").fetchone()[0] == 1
    # +447700900123 has 13 characters: "+44", 7 stars, "123".
    assert row[:3] == ("A1", "j***@example.com", "+44*******123")
    # HMAC-SHA256 of the normalised values with the key: verifiable by who holds the key, no one else.
    assert row[3] == keyed_hash(KEY, "jo.bloggs@example.com")
    assert row[4] == keyed_hash(KEY, "+447700900123")
    assert row[5] == "SW1A"


def test_pii_reader_reads_the_personal_details(hub):
    with psycopg.connect(hub["pii"]) as conn:
        assert conn.execute("select full_name, email, phone from marts_pii.dim_customer_pii").fetchone() == (
            "Jo Bloggs",
            "jo.bloggs@example.com",
            "+447700900123",
        )


def test_grants_survive_a_rebuild(hub):
    _dbt(hub["url"], hub["tmp"], "run", "--full-refresh", "--select", "dim_customer", "dim_customer_pii")
    with psycopg.connect(hub["bi"]) as conn:
        assert conn.execute("select count(*) from marts.dim_customer").fetchone()[0] == 1
    with psycopg.connect(hub["pii"]) as conn:
        assert conn.execute("select count(*) from marts_pii.dim_customer_pii").fetchone()[0] == 1
    with psycopg.connect(hub["bi"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from marts_pii.dim_customer_pii")


def test_a_new_key_hashes_every_customer_again(hub):
    """dim_customer writes only changed customers; a changed key changes every hash, so it writes them all.
    Storing the same key again changes nothing."""

    def hashes_and_set_at():
        with psycopg.connect(hub["url"]) as conn:
            hashes = conn.execute("select email_hash, phone_hash from marts.dim_customer").fetchall()
            return hashes, conn.execute("select set_at from ops.pii_key").fetchone()[0]

    other = b"another-test-key"
    _, set_at = hashes_and_set_at()
    with psycopg.connect(hub["url"], autocommit=True) as conn:
        ensure_access(conn, KEY)
    assert hashes_and_set_at()[1] == set_at
    for key in (other, KEY):
        with psycopg.connect(hub["url"], autocommit=True) as conn:
            ensure_access(conn, key)
        _dbt(hub["url"], hub["tmp"], "run", "--select", "dim_customer")
        hashes, changed_at = hashes_and_set_at()
        assert changed_at > set_at
        assert hashes == [(keyed_hash(key, "jo.bloggs@example.com"), keyed_hash(key, "+447700900123"))]


def test_preparations_at_once_set_up_schemas_and_grants_without_racing(warehouse, settings):
    """Three preparations on a new database at the same moment: none fails on a concurrent CREATE SCHEMA
    or GRANT (the error parallel dbt runs used to hit), and the grants are in place once."""
    server = embedded_server(settings)
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists t_access_race with (force)")
        conn.execute("create database t_access_race")
    url = server.url("t_access_race")
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_all(conn)
    start, errors = threading.Barrier(3), []

    def prepare():
        with psycopg.connect(url, autocommit=True) as conn:
            start.wait()
            try:
                ensure_access(conn, KEY)
            except psycopg.Error as exc:
                errors.append(exc)

    threads = [threading.Thread(target=prepare) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(url) as conn:
        usage = conn.execute(
            """select n.nspname, r.rolname from pg_namespace n cross join pg_roles r
               where r.rolname in ('bi_reader', 'pii_reader') and has_schema_privilege(r.oid, n.oid, 'USAGE')
                 and n.nspname in ('staging', 'intermediate', 'marts', 'marts_pii') order by 1, 2"""
        ).fetchall()
    assert usage == [("marts", "bi_reader"), ("marts", "pii_reader"), ("marts_pii", "pii_reader")]


def _run_warehouse_init(url: str, metabase_password: str) -> subprocess.CompletedProcess:
    """docker/warehouse-init/ as the postgres image runs it, here against the embedded server."""
    parts = urlsplit(url)
    env = {
        "PATH": f"{_pg_bin_path()}:{os.environ['PATH']}",
        "PGHOST": parts.hostname,
        "PGPORT": str(parts.port),
        "PGPASSWORD": unquote(parts.password),
        "POSTGRES_USER": parts.username,
        "POSTGRES_DB": parts.path.lstrip("/"),
        "METABASE_WAREHOUSE_PASSWORD": metabase_password,
    }
    script = ROOT / "docker" / "warehouse-init" / "10-reader-logins.sh"
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)


def test_the_docker_warehouse_gives_metabase_a_bi_reader_login(hub):
    """The compose stack's warehouse init makes Metabase's login a member of bi_reader and nothing more; run
    again (a second volume init, or by hand) it only sets the password anew."""
    first = _run_warehouse_init(hub["url"], "first-pass")
    assert first.returncode == 0, first.stderr
    again = _run_warehouse_init(hub["url"], "second-pass")
    assert again.returncode == 0, again.stderr
    assert "second-pass" not in again.stdout + again.stderr
    metabase = _login(hub["url"], "metabase", "second-pass")
    with psycopg.connect(metabase) as conn:
        assert conn.execute("select count(*) from marts.customer_360").fetchone()[0] == 1
        attributes = conn.execute(
            "select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = 'metabase'"
        ).fetchone()
        memberships = conn.execute(
            """select r.rolname from pg_auth_members m join pg_roles r on r.oid = m.roleid
               where m.member = 'metabase'::regrole order by 1"""
        ).fetchall()
    assert attributes == (False, False, False)
    assert memberships == [("bi_reader",)]
    for statement in ("select * from raw.contact", "select * from marts_pii.dim_customer_pii"):
        with psycopg.connect(metabase) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_login(hub["url"], "metabase", "first-pass"))
    missing = _run_warehouse_init(hub["url"], "")
    assert missing.returncode != 0 and "METABASE_WAREHOUSE_PASSWORD" in missing.stderr
