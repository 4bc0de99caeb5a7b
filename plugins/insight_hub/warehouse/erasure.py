"""Erase one customer's personal data (`insight-hub forget --customer ID`), and keep it erased.

What a customer is to the hub: their CRM account and its contacts, and every contact, survey response and
order that identity resolution gives them (intermediate.int_customer_records_resolved). Forgetting them:

- records the request in ops.erasure (who, when, why, and how many rows each table lost) and every source
  record it covers in ops.erased_record (entity and key; never a personal value);
- raw: the contract's PII columns of those records are set to null, and their `_extra` (export columns
  nobody mapped, which may hold anything) too. The facts stay: the contacts still count in the KPIs, the
  account keeps its id, segment and region, so the marts stay true while no longer naming anyone;
- quarantine: a rejected record of the customer (it carries one of their record keys or one of their
  e-mail addresses or phone numbers) keeps its file, line and reasons, but its content becomes
  {"_erased": true};
- the guest-id registry and the CRM key map forget their e-mail and phone keys; the customer-history snapshot loses their
  keyed hashes and postcode district; their insight actions lose the evidence text;
- the erased raw rows count as newly published, so the next dbt build (which `forget` runs) rebuilds
  staging, intermediate and marts from them.

Every later publish applies ops.erased_record to its batch (`apply_to_batch`): a re-extract, a backfill
or a re-exported file that brings the same records again cannot bring the personal data back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from insight_hub.contracts import Contract, load_contract
from insight_hub.warehouse.schema import DDL_LOCK

# The source entities that describe customers (agents and owners are staff, not customers).
CUSTOMER_ENTITIES = ("account", "contact", "interaction", "response", "order")
ERASED_MARK = "erased"
# Quarantined records are searched for the customer's e-mail addresses and phone numbers of this length or more.
MIN_PATTERN_LENGTH = 6


class ErasureError(Exception):
    """An erasure that cannot be done as asked: the message says why."""


@dataclass
class ErasureSummary:
    erasure_id: int
    customer_id: str
    records: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)


def _key_column(contract: Contract) -> sql.Identifier:
    (key,) = contract.key  # every customer entity has a one-column key
    return sql.Identifier(key)


def _erase_raw_rows(conn: psycopg.Connection, contract: Contract, batch_key: str | None = None) -> int:
    """Null the PII columns and `_extra` of raw rows whose key is an erased record (only the batch's rows
    when batch_key is given); rows already erased are left alone."""
    pii = [c.name for c in contract.columns if c.pii]
    personal = [*pii, "_extra"]
    batch = sql.SQL("and r._batch_key = {}").format(sql.Literal(batch_key)) if batch_key else sql.SQL("")
    return conn.execute(
        sql.SQL(
            """update raw.{entity} r set {nulls}, _loaded_at = now()
               from ops.erased_record e
               where e.entity = %s and e.record_key = r.{key} and ({any_set}) {batch}"""
        ).format(
            entity=sql.Identifier(contract.entity),
            nulls=sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in personal),
            key=_key_column(contract),
            any_set=sql.SQL(" or ").join(
                sql.SQL("r.{} is not null").format(sql.Identifier(c)) for c in personal
            ),
            batch=batch,
        ),
        (contract.entity,),
    ).rowcount


def _erase_quarantined(
    conn: psycopg.Connection, entity: str, patterns: list[str], batch_key: str | None = None
) -> int:
    """Blank quarantined records of `entity` that hold an erased record key of it as a value (or inside
    an unparsed line), or any of `patterns` (ILIKE)."""
    batch = sql.SQL("and q._batch_key = {}").format(sql.Literal(batch_key)) if batch_key else sql.SQL("")
    return conn.execute(
        sql.SQL(
            """update quarantine.{entity} q
               set record = '{{"_erased": true}}'::jsonb
               where not (q.record ? '_erased') {batch}
                 and (exists (select 1 from jsonb_each_text(q.record) v
                              join ops.erased_record e on e.entity = %(entity)s
                               and (v.value = e.record_key
                                    or (v.key = '_raw' and strpos(v.value, e.record_key) > 0)))
                      or q.record::text ilike any(%(patterns)s::text[]))"""
        ).format(entity=sql.Identifier(entity), batch=batch),
        {"entity": entity, "patterns": patterns},
    ).rowcount


def apply_to_batch(conn: psycopg.Connection, contract: Contract, batch_key: str) -> int:
    """Inside a publish: erase what ops.erased_record covers among the batch's rows. Returns the rows erased."""
    if contract.entity not in CUSTOMER_ENTITIES:
        return 0
    if not conn.execute(
        "select exists (select 1 from ops.erased_record where entity = %s)", (contract.entity,)
    ).fetchone()[0]:
        return 0
    return _erase_raw_rows(conn, contract, batch_key) + _erase_quarantined(
        conn, contract.entity, [], batch_key
    )


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _customer_records(conn: psycopg.Connection, customer_id: str) -> list[tuple[str, str]]:
    """(entity, record key) of every source record that is this customer's."""
    parts = [
        "select 'account', account_id from raw.account where account_id = %(c)s",
        "select 'contact', contact_id from raw.contact where account_id = %(c)s",
    ]
    if _exists(conn, "intermediate.int_customer_records_resolved"):
        parts.append(
            "select record_type, record_id from intermediate.int_customer_records_resolved where customer_id = %(c)s"
        )
    rows = conn.execute(" union ".join(parts), {"c": customer_id}).fetchall()
    return sorted({(entity, key) for entity, key in rows if key is not None})


def _personal_values(conn: psycopg.Connection, customer_id: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Before erasing: the customer's e-mail addresses and phone numbers as written in raw and as the hub
    normalised them (to find them in quarantined records), and their (key type, key value) identity keys."""
    written: set[str] = set()
    for entity, columns in (
        ("contact", ["email", "phone"]),
        ("interaction", ["customer_email", "customer_phone"]),
        ("response", ["respondent_email"]),
        ("order", ["customer_email"]),
    ):
        contract = load_contract(entity)
        for column in columns:
            values = conn.execute(
                sql.SQL(
                    """select distinct r.{col} from raw.{entity} r join ops.erased_record e
                       on e.entity = %s and e.record_key = r.{key} where r.{col} is not null"""
                ).format(
                    col=sql.Identifier(column), entity=sql.Identifier(entity), key=_key_column(contract)
                ),
                (entity,),
            ).fetchall()
            written.update(v.strip() for (v,) in values if v and v.strip())
    keys: set[tuple[str, str]] = set()
    if _exists(conn, "intermediate.int_identity_keys_seen"):
        keys.update(
            conn.execute(
                """select distinct s.key_type, s.key_value from intermediate.int_identity_keys_seen s
                   join ops.erased_record e on e.entity = s.record_type and e.record_key = s.record_id
                   where s.key_type in ('email', 'phone')"""
            ).fetchall()
        )
    if _exists(conn, "marts_pii.dim_customer_pii"):
        for email, phone in conn.execute(
            "select email, phone from marts_pii.dim_customer_pii where customer_id = %s", (customer_id,)
        ).fetchall():
            keys.update(k for k in (("email", email), ("phone", phone)) if k[1])
    written.update(value for _, value in keys)
    return sorted(written), sorted(keys)


def forget_customer(
    conn: psycopg.Connection, customer_id: str, reason: str, requested_by: str
) -> ErasureSummary:
    """Erase the customer's personal data everywhere but the marts (rebuilt by the next dbt build), in one
    transaction under the DDL lock. Raises ErasureError when no record is theirs."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        records = _customer_records(conn, customer_id)
        if not records:
            raise ErasureError(
                f"customer {customer_id!r}: no CRM account and no contact, survey response or order resolves "
                "to them (ids are marts.dim_customer.customer_id; run the transform first if they were just loaded)"
            )
        erasure_id = conn.execute(
            """insert into ops.erasure (customer_id, reason, requested_by) values (%s, %s, %s)
               returning erasure_id""",
            (customer_id, reason, requested_by),
        ).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                """insert into ops.erased_record (erasure_id, entity, record_key) values (%s, %s, %s)
                   on conflict (entity, record_key) do nothing""",
                [(erasure_id, entity, key) for entity, key in records],
            )
        written, keys = _personal_values(conn, customer_id)
        # Too short a value would blank other customers' records too.
        patterns = [f"%{_like_escape(v)}%" for v in written if len(v) >= MIN_PATTERN_LENGTH]
        rows: dict[str, int] = {}
        for entity in CUSTOMER_ENTITIES:
            rows[f"raw.{entity}"] = _erase_raw_rows(conn, load_contract(entity))
        for (entity,) in conn.execute(
            "select table_name from information_schema.tables where table_schema = 'quarantine' order by 1"
        ).fetchall():
            rows[f"quarantine.{entity}"] = _erase_quarantined(conn, entity, patterns)
        if _exists(conn, "intermediate.int_identity_guest_registry"):
            rows["intermediate.int_identity_guest_registry"] = conn.execute(
                """delete from intermediate.int_identity_guest_registry
                   where guest_id = %s or (key_type, key_value) in (select * from unnest(%s::text[], %s::text[]))""",
                (customer_id, [t for t, _ in keys], [v for _, v in keys]),
            ).rowcount
        if _exists(conn, "intermediate.int_identity_crm_keys"):
            # The key map keeps keys the CRM no longer has (incremental identity needs to see them go):
            # the customer's are removed here, so the next build does not keep them as gone keys.
            rows["intermediate.int_identity_crm_keys"] = conn.execute(
                """delete from intermediate.int_identity_crm_keys
                   where customer_id = %s or (key_type, key_value) in (select * from unnest(%s::text[], %s::text[]))""",
                (customer_id, [t for t, _ in keys], [v for _, v in keys]),
            ).rowcount
        if _exists(conn, "marts.dim_customer_history"):
            rows["marts.dim_customer_history"] = conn.execute(
                """update marts.dim_customer_history set email_hash = null, phone_hash = null,
                          postcode_district = null
                   where customer_id = %s and (email_hash is not null or phone_hash is not null
                                               or postcode_district is not null)""",
                (customer_id,),
            ).rowcount
        rows["ops.insight_action"] = conn.execute(
            """update ops.insight_action set evidence = %s, close_note = null
               where customer_id = %s and evidence <> %s""",
            (ERASED_MARK, customer_id, ERASED_MARK),
        ).rowcount
        conn.execute(
            "update ops.erasure set records = %s, rows_erased = %s where erasure_id = %s",
            (len(records), json.dumps(rows), erasure_id),
        )
    counts: dict[str, int] = {}
    for entity, _ in records:
        counts[entity] = counts.get(entity, 0) + 1
    return ErasureSummary(erasure_id, customer_id, counts, {k: v for k, v in rows.items() if v})


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
