"""Publish a checked batch: one transaction replaces exactly that batch's rows in raw and quarantine."""

from __future__ import annotations

import psycopg
from psycopg import sql

from insight_hub.contracts import Contract
from insight_hub.ingest.stage import StageTables
from insight_hub.warehouse import erasure


def collect_quarantine(conn: psycopg.Connection, tables: StageTables, row_failures: list) -> None:
    """stage.quarantine_<batch>: (record, reason) for parse errors and failed row-level expectations."""
    q = tables.quarantine
    conn.execute(sql.SQL("drop table if exists {}").format(q))
    conn.execute(
        sql.SQL("create unlogged table {} (_record_no bigint not null, reason text not null)").format(q)
    )
    conn.execute(
        sql.SQL(
            "insert into {} select _record_no, unnest(_errors) from {} where cardinality(_errors) > 0"
        ).format(q, tables.checked)
    )
    for failure in row_failures:
        # The expectation's own unexpected-index query, run in full: never the capped sample GX returns.
        conn.execute(
            sql.SQL("insert into {} select distinct u._record_no, {} from ({}) as u").format(
                q, sql.Literal(failure.reason), sql.SQL(failure.unexpected_query)
            )
        )


def count_quarantined(conn: psycopg.Connection, tables: StageTables) -> int:
    row = conn.execute(
        sql.SQL("select count(distinct _record_no) from {}").format(tables.quarantine)
    ).fetchone()
    return int(row[0])


def publish(
    conn: psycopg.Connection,
    tables: StageTables,
    contract: Contract,
    batch_id: int,
    batch_key: str,
    source_file: str,
    unmapped: list[str],
) -> tuple[int, int]:
    """Replace the batch's rows; returns (rows loaded, rows quarantined). Caller owns the transaction."""
    entity = sql.Identifier(contract.entity)
    q = tables.quarantine
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in contract.column_names)
    conn.execute(sql.SQL("delete from raw.{} where _batch_key = %s").format(entity), (batch_key,))
    loaded = conn.execute(
        sql.SQL(
            """insert into raw.{entity} ({cols}, _batch_id, _batch_key, _source_file, _record_no, _extra)
               select {tcols}, %s, %s, %s, t._record_no, {extra}
               from {typed} t {join_incoming}
               where not exists (select 1 from {q} where {q}._record_no = t._record_no)"""
        ).format(
            entity=entity,
            cols=cols,
            tcols=sql.SQL(", ").join(
                sql.SQL("t.{}").format(sql.Identifier(c)) for c in contract.column_names
            ),
            extra=_extra_expr(unmapped),
            typed=tables.typed,
            # The export's own columns are only read back when some are unmapped.
            join_incoming=sql.SQL("join {} i using (_record_no)").format(tables.incoming)
            if unmapped
            else sql.SQL(""),
            q=q,
        ),
        (batch_id, batch_key, source_file),
    ).rowcount
    conn.execute(sql.SQL("delete from quarantine.{} where _batch_key = %s").format(entity), (batch_key,))
    quarantined = conn.execute(
        sql.SQL(
            """insert into quarantine.{entity} (_batch_id, _batch_key, _source_file, _record_no, record, reasons)
               select %s, %s, %s, i._record_no,
                      coalesce(to_jsonb(i) - '_record_no' - '_raw' - '_parse_error',
                               '{{}}'::jsonb) || case when i._raw is null then '{{}}'::jsonb
                                                     else jsonb_build_object('_raw', i._raw) end,
                      r.reasons
               from {incoming} i
               join (select _record_no, array_agg(distinct reason order by reason) as reasons
                     from {q} group by _record_no) r using (_record_no)"""
        ).format(entity=entity, incoming=tables.incoming, q=q),
        (batch_id, batch_key, source_file),
    ).rowcount
    # No customer's e-mail or phone in full in quarantine (ops.mask_contact_details, bootstrap.sql).
    conn.execute(
        sql.SQL(
            """update quarantine.{} q set record = (
                   select jsonb_object_agg(f.key, case when jsonb_typeof(f.value) = 'string'
                          then to_jsonb(ops.mask_contact_details(f.value #>> '{{}}')) else f.value end)
                   from jsonb_each(q.record) f)
               where q._batch_key = %s and q.record <> '{{}}'::jsonb"""
        ).format(entity),
        (batch_key,),
    )
    # Customers forgotten before this batch stay forgotten, whatever old records it brings again.
    erasure.apply_to_batch(conn, contract, batch_key)
    return loaded, quarantined


def find_repeated_keys(
    conn: psycopg.Connection, tables: StageTables, contract: Contract, batch_key: str
) -> None:
    """Before the batch's rows go into raw: stage.repeated_<batch>, the keys of the records about to be
    loaded that another batch loaded already or that come more than once in this batch. Only these keys
    are compared for conflicts (most keys of most batches are new), so the cost follows the batch, not the
    history: the batch's keys are grouped once and probed against raw's key index."""
    on_key = sql.SQL(" and ").join(sql.SQL("r.{k} = l.{k}").format(k=sql.Identifier(k)) for k in contract.key)
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in contract.key)
    conn.execute(sql.SQL("drop table if exists {}").format(tables.repeated))
    conn.execute(
        sql.SQL(
            """create unlogged table {repeated} as
               with loading as materialized (
                   select {keys} from {typed} t
                   where not exists (select 1 from {q} where {q}._record_no = t._record_no)
               )
               select {keys} from loading group by {keys} having count(*) > 1
               union
               select {keys} from loading l
               where exists (select 1 from raw.{entity} r where {on_key} and r._batch_key <> %s)"""
        ).format(
            repeated=tables.repeated,
            keys=keys,
            typed=tables.typed,
            q=tables.quarantine,
            entity=sql.Identifier(contract.entity),
            on_key=on_key,
        ),
        (batch_key,),
    )


def log_key_conflicts(
    conn: psycopg.Connection, tables: StageTables, contract: Contract, batch_key: str
) -> int:
    """After the batch's rows are in raw: each of its records whose key was already loaded (by an earlier
    batch, or earlier in this file) with other content goes to ops.key_conflict, naming the columns that
    differ (never their values). The latest version is what staging keeps: the later load wins. Reads the
    keys `find_repeated_keys` found before the insert. Returns the number of conflicts."""
    entity = sql.Identifier(contract.entity)
    keys = sql.SQL(", ").join(sql.Identifier(k) for k in contract.key)
    conn.execute(
        "delete from ops.key_conflict where entity = %s and batch_key = %s", (contract.entity, batch_key)
    )
    return conn.execute(
        sql.SQL(
            """insert into ops.key_conflict (entity, record_key, batch_key, batch_id, record_no,
                                             earlier_batch_id, earlier_record_no, columns_changed)
               with versions as (
                   select concat_ws('|', {keys}) as record_key, _batch_key, _batch_id, _record_no,
                          jsonb_build_object({content}) as content,
                          row_number() over (partition by {keys} order by _batch_id, _record_no) as n
                   from raw.{entity} join {repeated} using ({keys})
               )
               select %(entity)s, v.record_key, v._batch_key, v._batch_id, v._record_no,
                      p._batch_id, p._record_no,
                      array(select c.key from jsonb_each(v.content) c
                            where c.value is distinct from p.content -> c.key order by c.key)
               from versions v join versions p on p.record_key = v.record_key and p.n = v.n - 1
               where v._batch_key = %(batch_key)s and v.content is distinct from p.content"""
        ).format(
            entity=entity,
            keys=keys,
            repeated=tables.repeated,
            content=sql.SQL(", ").join(
                sql.SQL("{}, {}").format(sql.Literal(c), sql.Identifier(c)) for c in contract.column_names
            ),
        ),
        {"entity": contract.entity, "batch_key": batch_key},
    ).rowcount


# PostgreSQL functions take at most 100 arguments: jsonb_build_object holds 50 key/value pairs.
PAIRS_PER_OBJECT = 50


def _extra_expr(unmapped: list[str]) -> sql.Composable:
    """jsonb of every export column the mapping does not use (null when there are none)."""
    if not unmapped:
        return sql.SQL("null::jsonb")
    objects = [
        sql.SQL("jsonb_build_object({})").format(
            sql.SQL(", ").join(sql.SQL("{}, i.{}").format(sql.Literal(c), sql.Identifier(c)) for c in chunk)
        )
        for chunk in (unmapped[i : i + PAIRS_PER_OBJECT] for i in range(0, len(unmapped), PAIRS_PER_OBJECT))
    ]
    return sql.SQL("jsonb_strip_nulls({})").format(sql.SQL(" || ").join(objects))
