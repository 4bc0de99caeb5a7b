"""DDL for the ingestion layer: audit tables, and raw/quarantine tables derived from contracts."""

from __future__ import annotations

from importlib.resources import files

import psycopg
from psycopg import sql

from insight_hub.contracts import Contract

PG_TYPES = {
    "text": "text",
    "integer": "bigint",
    "numeric": "numeric",
    "boolean": "boolean",
    "timestamptz": "timestamptz",
    "date": "date",
}

# Columns every raw row carries to say where it came from.
LINEAGE_COLUMNS = [
    ("_batch_id", "bigint not null"),
    ("_batch_key", "text not null"),
    ("_source_file", "text"),
    ("_record_no", "bigint not null"),
    ("_loaded_at", "timestamptz not null default now()"),
    # Export columns the mapping does not use, kept so a new source column is never lost.
    ("_extra", "jsonb"),
]


DDL_LOCK = "insight_hub:ddl"


def bootstrap(conn: psycopg.Connection) -> None:
    # Serialised: "create ... if not exists" still races when two loads start at once.
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        conn.execute(files("insight_hub.warehouse").joinpath("bootstrap.sql").read_text())


def ensure_entity_tables(conn: psycopg.Connection, contract: Contract) -> None:
    """Create raw.<entity> and quarantine.<entity> when missing."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (DDL_LOCK,))
        _entity_ddl(conn, contract)


def _entity_ddl(conn: psycopg.Connection, contract: Contract) -> None:
    cols = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type])) for c in contract.columns
    ]
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in LINEAGE_COLUMNS]
    conn.execute(
        sql.SQL("create table if not exists raw.{} ({})").format(
            sql.Identifier(contract.entity), sql.SQL(", ").join(cols)
        )
    )
    # Tables created before a lineage column existed get it added.
    for name, ddl in LINEAGE_COLUMNS:
        conn.execute(
            sql.SQL("alter table raw.{} add column if not exists {} {}").format(
                sql.Identifier(contract.entity), sql.Identifier(name), sql.SQL(ddl.replace(" not null", ""))
            )
        )
    conn.execute(
        sql.SQL("create index if not exists {} on raw.{} (_batch_key)").format(
            sql.Identifier(f"{contract.entity}_batch_key"), sql.Identifier(contract.entity)
        )
    )
    # A daily build reads only the rows published since its last one (_loaded_at > its mark), and every
    # freshness check (each source DAG, the extracts' readiness, `dbt source freshness`) reads the newest
    # _loaded_at. A btree index serves both, the newest value in one probe of its end; rows are appended
    # in publishing order, so it is cheap to keep. It replaces a BRIN index, which found the new rows but
    # cannot give the newest value: max() read the whole table, 0.77 s per 2 million rows, on every check.
    loaded_at_index = f"{contract.entity}_loaded_at"
    access_method = conn.execute(
        """select am.amname from pg_class as c
           join pg_namespace as n on n.oid = c.relnamespace
           join pg_am as am on am.oid = c.relam
           where n.nspname = 'raw' and c.relname = %s""",
        (loaded_at_index,),
    ).fetchone()
    if access_method == ("brin",):
        conn.execute(sql.SQL("drop index raw.{}").format(sql.Identifier(loaded_at_index)))
    conn.execute(
        sql.SQL("create index if not exists {} on raw.{} (_loaded_at)").format(
            sql.Identifier(loaded_at_index), sql.Identifier(contract.entity)
        )
    )
    # Publishing looks up each record's earlier versions by key (ops.key_conflict), as does an erasure.
    conn.execute(
        sql.SQL("create index if not exists {} on raw.{} ({})").format(
            sql.Identifier(f"{contract.entity}_key"),
            sql.Identifier(contract.entity),
            sql.SQL(", ").join(sql.Identifier(k) for k in contract.key),
        )
    )
    conn.execute(
        sql.SQL(
            """create table if not exists quarantine.{} (
                _batch_id bigint not null,
                _batch_key text not null,
                _source_file text,
                _record_no bigint not null,
                record jsonb,
                reasons text[] not null,
                quarantined_at timestamptz not null default now()
            )"""
        ).format(sql.Identifier(contract.entity))
    )


def ensure_all(conn: psycopg.Connection) -> None:
    """Schemas, audit tables and a raw/quarantine table for every contract, so dbt finds every source."""
    from insight_hub.contracts import all_contracts

    bootstrap(conn)
    for contract in all_contracts():
        ensure_entity_tables(conn, contract)
