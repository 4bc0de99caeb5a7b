-- Schemas and audit tables the ingestion layer needs before any load.
-- Idempotent: run at the start of every load task.
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists ops;
create schema if not exists stage;

create table if not exists ops.load_batch (
    batch_id bigint generated always as identity primary key,
    source text not null,
    entity text not null,
    batch_key text not null,            -- content checksum for files
    source_file text,
    status text not null,
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    message text,
    airflow_run_id text,
    started_at timestamptz not null default clock_timestamp(),
    finished_at timestamptz,
    constraint rows_accounted_for check (
        status <> 'published' or rows_read = rows_loaded + rows_quarantined
    )
);
-- The export's columns as staged, and those the mapping does not use: schema drift is visible per batch.
alter table ops.load_batch add column if not exists source_columns text[];
alter table ops.load_batch add column if not exists unmapped_columns text[];
-- Notes for the reader (absent or unmapped columns, warn-level expectations) and staging problems that
-- reject the batch at validation; an extract's watermark, moved when its batch publishes.
alter table ops.load_batch add column if not exists warnings text[];
alter table ops.load_batch add column if not exists problems text[];
alter table ops.load_batch add column if not exists watermark_feed text;
alter table ops.load_batch add column if not exists watermark_value text;

-- A batch moves running -> staged -> validated -> published, or ends rejected or failed.
do $$
begin
    if exists (select 1 from pg_constraint where conname = 'load_batch_status_check' and conrelid = 'ops.load_batch'::regclass) then
        alter table ops.load_batch drop constraint load_batch_status_check;
    end if;
    if not exists (select 1 from pg_constraint where conname = 'load_batch_status' and conrelid = 'ops.load_batch'::regclass) then
        alter table ops.load_batch add constraint load_batch_status check (
            status in ('running', 'staged', 'validated', 'published', 'rejected', 'failed')
        );
    end if;
end $$;

create index if not exists load_batch_entity_key on ops.load_batch (entity, batch_key);

-- Parse text by a user's date pattern; null instead of an error, so a bad value quarantines one row.
create or replace function ops.try_timestamp(value text, pattern text) returns timestamp
language plpgsql stable as $$
begin
    return to_timestamp(value, pattern)::timestamp;
exception when others then
    return null;
end $$;

create or replace function ops.try_date(value text, pattern text) returns timestamp
language plpgsql stable as $$
begin
    return to_date(value, pattern)::timestamp;
exception when others then
    return null;
end $$;

-- Every expectation's outcome for every validated batch (published or rejected): feeds marts.dq_scorecard.
create table if not exists ops.dq_result (
    result_id bigint generated always as identity primary key,
    batch_id bigint not null,
    entity text not null,
    expectation text not null,
    expectation_type text not null,
    column_name text,
    severity text not null,
    success boolean not null,
    rows_evaluated bigint,
    rows_failed bigint,
    observed_value text,
    evaluated_at timestamptz not null default now()
);
create index if not exists dq_result_batch on ops.dq_result (batch_id);

-- The customer charter's promises, replaced from the charter YAML before every transform (charter.py).
create table if not exists ops.charter_promise (
    promise_id text primary key,
    promise text not null,
    kpi text not null,
    channel text,
    target numeric not null,
    direction text not null check (direction in ('at_least', 'at_most')),
    published_at timestamptz not null default now()
);

-- Which queues each team lead's extract covers, replaced from INSIGHT_HUB_EXTRACTS before every
-- transform (insight/scopes.py).
create table if not exists ops.owner_queue (
    owner_id text not null,
    queue text not null,
    primary key (owner_id, queue)
);

-- One row per extract or notice e-mailed to a manager, keyed by report period and kind ('2026-01-12
-- extract'): a retried send, and every later build of the same week, skips those already delivered,
-- so every manager gets exactly one extract per period.
create table if not exists ops.extract_delivery (
    report_key text not null,
    owner_id text not null,
    kind text not null check (kind in ('extract', 'notice')),
    recipient text not null,
    message_id text not null,
    sent_at timestamptz not null default now(),
    airflow_run_id text,
    primary key (report_key, owner_id)
);

-- The voice-of-customer theme taxonomy, one row per keyword, replaced from INSIGHT_HUB_THEMES before
-- every transform (insight/themes.py).
create table if not exists ops.theme_keyword (
    theme_id text not null,
    label text not null,
    owner_function text not null,
    touchpoint text not null,
    language text not null,
    keyword text not null,
    primary key (theme_id, language, keyword)
);

-- VADER's compound score (-1 .. 1) of each distinct comment and note text, by the text's SHA-256 (the
-- text itself is not kept here); filled before every transform (insight/sentiment.py).
create table if not exists ops.text_sentiment (
    text_hash text primary key,
    compound numeric(5, 4) not null,
    scored_at timestamptz not null default now()
);

-- How far each text column of raw has been read for scoring: its rows published up to scanned_through
-- (raw._loaded_at) have their texts in ops.text_sentiment, so the next scoring reads only later rows.
create table if not exists ops.text_sentiment_scan (
    text_column text primary key,
    scanned_through timestamptz not null
);

-- Insight actions (insight/actions.py). The rules and the leads of each function are replaced from
-- INSIGHT_HUB_ACTIONS (and the charter's follow_up_days) before every transform; int_action_signals
-- turns them into signals.
create table if not exists ops.action_rule (
    action_type text primary key,
    owner_rule text not null,           -- account_owner, theme_owner, or a function
    due_within_days integer not null,
    params jsonb not null default '{}'
);

create table if not exists ops.function_lead (
    function_name text primary key,
    owner_id text not null
);

-- Every action ever raised: created once per signal (action_key), closed by its owner, by the CRM's
-- write-back or when its signal clears; never deleted.
create table if not exists ops.insight_action (
    action_id bigint generated always as identity primary key,
    action_key text not null unique,
    action_type text not null,
    customer_id text,
    theme_id text,
    promise_id text,
    evidence text not null,
    owner_id text not null,
    signal_at timestamptz not null,
    due_at timestamptz not null,
    created_at timestamptz not null default now(),
    status text not null default 'open' check (status in ('open', 'closed')),
    closed_at timestamptz,
    closed_by text check (closed_by in ('owner', 'crm', 'signal_cleared')),
    close_note text,
    constraint closed_has_time check ((status = 'closed') = (closed_at is not null))
);
create index if not exists insight_action_open on ops.insight_action (owner_id, due_at) where status = 'open';

-- What the CRM (or `insight-hub actions import`) writes back about actions; each row is applied once
-- by the next action sync, and a row that cannot be applied keeps the reason in `problem`.
create table if not exists ops.action_writeback (
    writeback_id bigint generated always as identity primary key,
    action_id bigint,
    status text,
    note text,
    written_by text,
    written_at timestamptz not null default now(),
    applied_at timestamptz,
    problem text
);

-- One row per customer forgotten (`insight-hub forget`): who asked, when, why, and how many rows each
-- table lost. Never a personal value: the customer is named by their hub id.
create table if not exists ops.erasure (
    erasure_id bigint generated always as identity primary key,
    customer_id text not null,
    reason text not null,
    requested_by text not null,
    requested_at timestamptz not null default now(),
    records integer,
    rows_erased jsonb
);

-- Every source record an erasure covers; each publish erases these again among its batch's rows, so a
-- re-extract or re-export of old data does not bring the personal data back.
create table if not exists ops.erased_record (
    entity text not null,
    record_key text not null,
    erasure_id bigint not null references ops.erasure,
    primary key (entity, record_key)
);

-- A record whose key was already loaded with other content (a corrected export, a changed CRM record, a
-- key sent twice in one file): the later load wins, and each such record is logged here with the
-- columns that differ (names only: values may be personal data).
create table if not exists ops.key_conflict (
    entity text not null,
    record_key text not null,
    batch_key text not null,
    batch_id bigint not null,
    record_no bigint not null,
    earlier_batch_id bigint not null,
    earlier_record_no bigint not null,
    columns_changed text[] not null,
    logged_at timestamptz not null default now()
);
create index if not exists key_conflict_batch on ops.key_conflict (entity, batch_key);

-- Quarantined records keep what was read, for whoever fixes the export, but never a customer's e-mail
-- address or phone number in full: j***@example.com and +*****123 (a + or 0, then at least eight more
-- digits, spaces or brackets, the last three digits kept). Dates, amounts and ids (a digit run after a
-- letter) are left alone.
create or replace function ops.mask_contact_details(value text) returns text
language sql immutable parallel safe
return regexp_replace(
    regexp_replace(value, '([[:alnum:]])[[:alnum:]._%+-]*@([[:alnum:]-]+(\.[[:alnum:]-]+)+)', '\1***@\2', 'g'),
    '(?<![[:alnum:]+])(\+|0)[0-9][0-9 ()]{5,}([0-9]{3})(?![[:alnum:]])', '\1*****\2', 'g'
);
