{# Keep the latest copy of each source key: the row from the newest batch, last in its file.
   In an incremental model only rows published since its last build are read (raw._loaded_at is the
   publishing transaction's time, and one entity's batches publish one at a time); the model's final
   select then drops any that an existing row already supersedes (see newer_than_existing). #}
{% macro latest_by_key(relation, key) -%}
    select distinct on ({{ key }}) *
    from {{ relation }}
    {%- if is_incremental() %}
    where _loaded_at > {{ high_water('loaded_at') }}
    {%- endif %}
    order by {{ key }}, _batch_id desc, _record_no desc
{%- endmacro %}

{# In an incremental staging model: keep a row only if no row already stored for its key comes from a
   later batch (or later in the same batch), so an incremental build keeps what a full refresh keeps. #}
{% macro newer_than_existing(relation_alias, keys) -%}
    {%- if is_incremental() %}
    where not exists (
        select 1 from {{ this }} as existing
        where {% for key in keys %}existing.{{ key }} = {{ relation_alias }}.{{ key }} and {% endfor -%}
            (existing.batch_id, existing.record_no) > ({{ relation_alias }}.batch_id, {{ relation_alias }}.record_no)
    )
    {%- endif %}
{%- endmacro %}

{# When the model's build wrote the row (its transaction's start, so later than any row an earlier model
   of the same build wrote): incremental models downstream rebuild what a build touched. #}
{% macro built_at() -%}
    current_timestamp as built_at
{%- endmacro %}

{# The indexes an incremental model declares (config indexes) that its table lacks, as statements that
   create them. dbt creates a model's indexes only with its table, so an index added to an incremental
   model would otherwise wait for a --full-refresh of each warehouse built before it: this creates it in
   the next ordinary build instead. dbt names each index afresh, so an index is matched by its columns
   and whether it is unique. #}
{% macro create_missing_indexes() -%}
    {%- if execute and config.get('materialized') == 'incremental' and config.get('indexes') -%}
        {%- set present = run_query(
            "select case when i.indisunique then 'unique ' else '' end
                    || string_agg(a.attname, ',' order by k.position)
             from pg_index as i
             cross join lateral unnest(i.indkey) with ordinality as k (attnum, position)
             inner join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where i.indrelid = '" ~ this ~ "'::regclass
             group by i.indexrelid, i.indisunique"
        ).columns[0].values() -%}
        {%- for index_dict in config.get('indexes') -%}
            {%- set index = adapter.parse_index(index_dict) -%}
            {%- if ('unique ' if index.unique else '') ~ index.columns | join(',') not in present %}
                {{ get_create_index_sql(this, index_dict) }};
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{# Fresh planner statistics for a table the build just wrote. Without them PostgreSQL guesses a new
   table holds a few rows and picks nested loops that go quadratic on the identity models.
   A table model is new on every build: always analysed. An incremental table is analysed when this
   build's transaction inserted, updated or deleted a row of it, even a day's rows in a table of months:
   the next models look those rows up by the newest built_at or loaded_at (high_water), and statistics
   that have not seen that value yet make PostgreSQL expect none of them and pick nested loops over
   them (int_identity_crm_matches took 283 s instead of 3 s in a daily build that skipped the ANALYZE
   of tables a build changed by less than a tenth).
   Once a table has statistics, such a build analyses only the columns rows are looked up and joined by:
   its unique key and its indexes' columns (analyze_columns). The other columns' statistics stay as the
   last whole ANALYZE left them (a day moves their distribution little; autovacuum analyses the table
   whole once a tenth of it changed), and the build does not compute them again for every table
   it touched (about half the time of each ANALYZE on fct_contact's 2 million rows). Such an ANALYZE
   samples 9,000 rows (statistics target 30) instead of 30,000, and takes a fifth of the time (ANALYZE's
   time goes with its sample: fct_order_line's 2.7 million rows, 290-330 ms at 30,000, 57 ms at 9,000).
   What it is there for, the newest built_at or loaded_at, comes with a day's rows (16,755 of fct_contact's
   2.0 million in the hub benchmark's daily build: about 75 of the sample); beyond the histogram's last bound PostgreSQL reads the newest
   value from the column's index (high-water columns have one: tests/unit/test_high_water_indexes.py). #}
{% macro analyze_table() -%}
    {%- if config.get('materialized') == 'table' -%}
        analyze {{ this }}
    {%- elif config.get('materialized') == 'incremental' -%}
        {%- set columns = analyze_columns() %}
        do $$
        declare
            previous_target text := current_setting('default_statistics_target');
        begin
            if (
                select coalesce(sum(x.n_tup_ins + x.n_tup_upd + x.n_tup_del), 0)
                from pg_stat_xact_user_tables as x
                where x.relid = '{{ this }}'::regclass
            ) = 0 then
                return;
            end if;
            {%- if columns %}
            if exists (select 1 from pg_statistic where starelid = '{{ this }}'::regclass) then
                perform set_config('default_statistics_target', '30', true);
                analyze {{ this }} ({{ columns | join(', ') }});
                perform set_config('default_statistics_target', previous_target, true);
                return;
            end if;
            {%- endif %}
            analyze {{ this }};
        end
        $$
    {%- endif -%}
{%- endmacro %}

{# The columns of an incremental model's unique key and declared indexes, each once, in that order. #}
{% macro analyze_columns() -%}
    {%- set columns = [] -%}
    {%- set key = config.get('unique_key') or [] -%}
    {%- for column in ([key] if key is string else key) -%}
        {%- if column not in columns %}{% do columns.append(column) %}{% endif -%}
    {%- endfor -%}
    {%- for index in config.get('indexes') or [] -%}
        {%- for column in index['columns'] -%}
            {%- if column not in columns %}{% do columns.append(column) %}{% endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do return(columns) -%}
{%- endmacro %}

{# The newest value of `column` this incremental model already holds (-infinity while it is empty), among
   its rows that satisfy `where` when one is given (a condition on the alias `previous`). #}
{% macro high_water(column, where=none) -%}
    {{ newest_value(this, column, where, default="'-infinity'") }}
{%- endmacro %}

{# max(`column`) of `relation` (alias `previous`, filtered by `where`), or `default` (SQL) when there is no
   value, as a typed literal read when the model runs; none when there is neither. A literal, not a
   subquery, because PostgreSQL plans a subquery's value as unknown: it then expects
   `loaded_at > (...)` to keep a third of a table and scans and hashes all of it, where with the value
   it sees from the statistics and the index that a day's rows are few. #}
{% macro newest_value(relation, column, where=none, default='null') -%}
    {%- set query -%}
        select coalesce(max(previous.{{ column }}), {{ default }})::text, pg_typeof(max(previous.{{ column }}))::text
        from {{ relation }} as previous
        {%- if where %} where {{ where }}{% endif %}
    {%- endset -%}
    {%- if not execute -%}
        {%- do return('(' ~ query ~ ')') -%}
    {%- endif -%}
    {%- set row = run_query(query).rows[0] -%}
    {%- do return(none if row[0] is none else "'" ~ (row[0] | replace("'", "''")) ~ "'::" ~ row[1]) -%}
{%- endmacro %}

{# In an incremental daily mart: the days on which `fact` holds a row written after this mart's newest
   row, which are the days to recompute, as a list of date literals read when the model runs (null when
   there is none). Literals for the same reason as high_water: given a subquery, PostgreSQL expected
   every day of the history and read the whole fact in its day index's order (3.9 s for
   contact_centre_daily's ten days); given the days, it reads those days' rows. #}
{% macro days_rebuilt(fact, day_column) -%}
    {%- set query -%}
        select distinct rebuilt.{{ day_column }} from {{ fact }} as rebuilt
        where rebuilt.built_at > {{ high_water('built_at') }} and rebuilt.{{ day_column }} is not null
    {%- endset -%}
    {%- do return(date_literals(query)) -%}
{%- endmacro %}

{# The dates `query` returns (one column), read when the model runs, as a list of date literals for an
   `in (...)` (null when there is none); the query itself before then (parsing, compiling). #}
{% macro date_literals(query) -%}
    {%- if not execute -%}
        {%- do return(query) -%}
    {%- endif -%}
    {%- set days = dates_read(query) -%}
    {%- do return(days | join(', ') if days else 'null') -%}
{%- endmacro %}

{# The same dates as a table of values for a FROM clause (`from {{ date_values(query) }} as listed (day)`;
   one null row when there is none); the query itself as a subquery before then (parsing, compiling,
   linting). #}
{% macro date_values(query) -%}
    {%- if not execute -%}
        {%- do return('(' ~ query ~ ')') -%}
    {%- endif -%}
    {%- set days = dates_read(query) or ['null::date'] -%}
    {%- do return('(values (' ~ days | join('), (') ~ '))') -%}
{%- endmacro %}

{# The dates `query` returns, in order, each as a date literal. #}
{% macro dates_read(query) -%}
    {%- set days = [] -%}
    {%- for day in run_query(query ~ ' order by 1').columns[0].values() -%}
        {%- do days.append("'" ~ day ~ "'::date") -%}
    {%- endfor -%}
    {%- do return(days) -%}
{%- endmacro %}

{# In an incremental fact: its rows whose customer the identity models now resolve differently.
   `resolved` is the model's import of int_customer_records_resolved, keyed like the fact. That model
   writes a record's row again only when its resolution changes, so only rows it wrote since the fact's
   last build are compared. #}
{% macro resolved_differently(resolved, key, columns=[]) -%}
    select
        existing.{{ key }}
        {%- for column in columns %},
        existing.{{ column }}
        {%- endfor %}
    from {{ this }} as existing
    inner join {{ resolved }} as now_resolved on existing.{{ key }} = now_resolved.{{ key }}
    where
        now_resolved.built_at > {{ high_water('built_at') }}
        and now_resolved.customer_id is distinct from existing.customer_id
{%- endmacro %}

{# In a model incremental by period (week and month, its CTE periods): the CTEs of the fact days written
   since its last build (fact_days_built_since_last_build), the periods holding them (rebuilt_periods)
   and those periods day by day (rebuilt_period_days: period_type, rebuilt_day), each followed by a
   comma. #}
{% macro period_days_rebuilt() -%}
    {{ fact_days_built_since_last_build() }}

    rebuilt_periods as (
        select distinct
            p.period_type,
            date_trunc(p.period_type, d.fact_day)::date as period_start
        from fact_days as d
        cross join periods as p
    ),

    rebuilt_period_days as (
        select
            period_type,
            {{ days_of_period('period_type', 'period_start') }} as rebuilt_day
        from rebuilt_periods
    ),
{%- endmacro %}

{# Set-returning: every day of the period (a 'week' or 'month' period_type) that starts on period_start. #}
{% macro days_of_period(period_type, period_start) -%}
    generate_series(
        {{ period_start }}, {{ period_start }} + ('1 ' || {{ period_type }})::interval - interval '1 day', interval '1 day'
    )::date
{%- endmacro %}

{# The days of the periods a model incremental by period recomputes (rebuilt_period_days), as date values
   read when the model runs, for join_periods_rebuilt. #}
{% macro rebuilt_day_literals() -%}
    {%- set query -%}
        with
        periods as (
            {{ period_types() }}
        ),
        {{ period_days_rebuilt() }}
        listed as (select distinct r.rebuilt_day from rebuilt_period_days as r)
        select rebuilt_day from listed
    {%- endset -%}
    {%- do return(date_literals(query)) -%}
{%- endmacro %}

{# The period types a model incremental by period counts: its CTE periods. #}
{% macro period_types() -%}
    select 'week' as period_type
    union all
    select 'month' as period_type
{%- endmacro %}

{# In a model incremental by period: joins a row, by its day, to its periods (alias p, with p.period_type).
   A full build joins every row to every period type (the model's CTE periods); an incremental build
   only to the periods it recomputes, listed day by day in the model's CTE rebuilt_period_days
   (period_type, rebuilt_day). A join rather than a filter: PostgreSQL cannot estimate the rows of the
   rebuilt periods and, given a filter, scanned the table once per rebuilt period. The join also names
   the rebuilt days as values (`days`, from rebuilt_day_literals): with only the generated days,
   PostgreSQL expected 400,000 of them, hashed all 1.6 million rows of contact_centre_daily and 1.1
   million orders, and took 2.5 s for a day's periods; with the values it reads those days through the
   facts' day indexes. #}
{% macro join_periods_rebuilt(day, days) -%}
    {%- if is_incremental() -%}
        inner join rebuilt_period_days as p on {{ day }} = p.rebuilt_day and {{ day }} in ({{ days }})
    {%- else -%}
        cross join periods as p
    {%- endif -%}
{%- endmacro %}

{# CTEs last_build and fact_days (fact_day): the days of the fact rows (contacts, survey responses, orders'
   promised dates) written after the model's last build; the daily marts rebuilt exactly these days. #}
{% macro fact_days_built_since_last_build() -%}
    last_build as (
        select coalesce(max(built_at), '-infinity') as built_at from {{ this }}
    ),

    fact_days as (
        select f.contact_date as fact_day from {{ ref('fct_contact') }} as f
        where f.built_at > (select l.built_at from last_build as l)
        union
        select f.response_date from {{ ref('fct_survey_response') }} as f
        where f.built_at > (select l.built_at from last_build as l)
        union
        select f.promised_date from {{ ref('fct_order') }} as f
        where f.built_at > (select l.built_at from last_build as l) and f.promised_date is not null
    ),
{%- endmacro %}

{# dbt's delete+insert strategy (its default__get_delete_insert_merge_sql), with one change: a one-column
   unique key's stored rows are found by `key = any(array(<the new rows' keys>))` instead of
   `key in (select ...)`. PostgreSQL plans the IN form before it knows how many keys the new rows hold (the
   temporary table has no statistics), and picks a hash join over a scan of the whole table: 212 ms to
   find contact_centre_daily's 94,000 rows of a daily build among its 1.6 million. The array is computed
   first and its rows found by the key's index (every such key has one): 60 ms. A key of several columns
   keeps dbt's form. #}
{% macro postgres__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- if unique_key %}
        {%- set keys = [unique_key] if unique_key is string else unique_key %}
        delete from {{ target }} as DBT_INTERNAL_DEST
        {%- if keys | length == 1 %}
        where {{ keys[0] }} = any(array(
            select distinct {{ keys[0] }}
            from {{ source }} as DBT_INTERNAL_SOURCE
        ))
        {%- else %}
        where ({{ keys | join(', ') }}) in (
            select distinct {{ keys | join(', ') }}
            from {{ source }} as DBT_INTERNAL_SOURCE
        )
        {%- endif %}
        {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
        {%- endfor %};
    {%- endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}
