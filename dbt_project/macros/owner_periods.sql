{# Two models count each manager's scope incrementally: int_owner_daily_counts by (owner, day) and
   manager_kpis by (owner, period). Before an incremental build, their hooks, in the build's own
   transaction, list what the build recomputes in a temporary table and delete those rows; the model
   then computes exactly them again (in_owner_periods_rebuilt and owner_facts_rebuilt below):
   - every owner's days that hold a fact row (contact, survey response, order) loaded since the model's
     last build: a reloaded fact may have left another owner's scope, and what it held before is gone;
   - the (owner, day) pairs of the facts rewritten since without a load (a customer resolved again, a
     repeat flag a later contact changed): the day, queue and channel of such a fact stay as they were,
     so only the owners who see every fact (heads of service) or a queue's facts (team leads) and the
     relationship owners of its customer before and after can count it differently (owner_days_changed);
   - for manager_kpis also the (owner, day) rows int_owner_daily_counts rewrote since its last build;
   - every day (or period) of an owner whose scope fingerprint (int_owner_scopes) is new, changed or gone.
   A row of the table is a day or period (owner_id null: every owner), an owner (day or period null:
   every one) or both (that owner on that day or period).
   A pair that now counts nothing is deleted and not written again, as a full refresh would leave it. #}

{# CTEs ending in owner_days_changed (owner_id, fact_day; owner_id null for every owner): the pairs whose
   counts the facts written after `since` (the model's high_water('built_at'), a literal) may have
   changed, as listed above. #}
{% macro owner_days_changed(since) -%}
    {%- set facts = [
        (ref('fct_contact'), 'contact_date', 'interaction', 'interaction_id', 'true'),
        (ref('fct_survey_response'), 'response_date', 'response', 'response_id', 'true'),
        (ref('fct_order'), 'promised_date', 'order', 'order_id', 'f.promised_date is not null'),
    ] %}
    facts_written as (
        {%- for relation, fact_day, record_type, key, where in facts %}
            {%- if not loop.first %}
        union all
            {%- endif %}
        select
            f.{{ fact_day }} as fact_day,
            f.loaded_at > {{ since }} as is_loaded,
            f.customer_id,
            '{{ record_type }}' as record_type,
            f.{{ key }} as record_id
        from {{ relation }} as f
        where f.built_at > {{ since }} and {{ where }}
        {%- endfor %}
    ),

    -- The customer a record resolved to before it was resolved again since.
    previous_customers as (
        select
            r.record_type,
            r.record_id,
            r.previous_customer_id as customer_id
        from {{ ref('int_customer_records_resolved') }} as r
        where r.built_at > {{ since }} and r.previous_customer_id is not null
    ),

    -- A response counts for the lead of the queue of the contact it answers, which a reloaded contact can
    -- change without the response being loaded again: every team lead is listed with the heads.
    owners_of_every_day as (
        select o.owner_id from {{ ref('dim_owner') }} as o
        where o.role = 'head_of_service'
        union
        select q.owner_id from {{ ref('stg_ops__owner_queues') }} as q
    ),

    customer_owners as (
        {{ owned_customers() }}
    ),

    owner_days_changed as (
        select
            null::text as owner_id,
            fact_day
        from facts_written
        where is_loaded
        union
        select
            o.owner_id,
            d.fact_day
        from (select distinct f.fact_day from facts_written as f where not f.is_loaded) as d
        cross join owners_of_every_day as o
        union
        select
            o.owner_id,
            f.fact_day
        from facts_written as f
        inner join customer_owners as o on f.customer_id = o.customer_id
        where not f.is_loaded
        union
        select
            o.owner_id,
            f.fact_day
        from facts_written as f
        inner join previous_customers as p on f.record_type = p.record_type and f.record_id = p.record_id
        inner join customer_owners as o on p.customer_id = o.customer_id
        where not f.is_loaded
    ),
{%- endmacro %}

{# The owners whose scope fingerprint differs from the one the model's rows were built with. #}
{% macro owners_with_changed_scope() -%}
    scopes_built as (
        select distinct
            owner_id,
            scope_hash
        from {{ this }}
    ),

    scopes_now as (
        select
            owner_id,
            scope_hash
        from {{ ref('int_owner_scopes') }}
    ),

    changed_owners as (
        (select * from scopes_now except select * from scopes_built)
        union
        (select * from scopes_built except select * from scopes_now)
    )
{%- endmacro %}

{% macro owner_days_rebuilt() -%}
    {%- if is_incremental() %}
        create temporary table owner_days_rebuilt on commit drop as
        with {{ owner_days_changed(high_water('built_at')) }}

        {{ owners_with_changed_scope() }}

        select
            owner_id,
            fact_day
        from owner_days_changed
        union all
        select distinct
            owner_id,
            null::date as fact_day
        from changed_owners
    {%- endif %}
{%- endmacro %}

{% macro delete_owner_days_rebuilt() -%}
    {%- if is_incremental() %}
        delete from {{ this }} as t
        where
            t.fact_day in (select r.fact_day from owner_days_rebuilt as r where r.owner_id is null)
            or t.owner_id in (select r.owner_id from owner_days_rebuilt as r where r.fact_day is null)
            or (t.owner_id, t.fact_day) in (
                select r.owner_id, r.fact_day from owner_days_rebuilt as r
                where r.owner_id is not null and r.fact_day is not null
            )
    {%- endif %}
{%- endmacro %}

{% macro owner_periods_rebuilt() -%}
    {%- if is_incremental() %}
        {%- set since = high_water('built_at') %}
        create temporary table owner_periods_rebuilt on commit drop as
        with {{ owner_days_changed(since) }}

        days_counted as (
            select
                owner_id,
                fact_day
            from owner_days_changed
            union
            select
                d.owner_id,
                d.fact_day
            from {{ ref('int_owner_daily_counts') }} as d
            where d.built_at > {{ since }}
        ),

        {{ owners_with_changed_scope() }}

        select distinct
            d.owner_id,
            p.period_type,
            date_trunc(p.period_type, d.fact_day)::date as period_start
        from days_counted as d
        cross join (values ('week'), ('month')) as p (period_type)
        union all
        select distinct
            owner_id,
            null::text as period_type,
            null::date as period_start
        from changed_owners
    {%- endif %}
{%- endmacro %}

{% macro delete_owner_periods_rebuilt() -%}
    {%- if is_incremental() %}
        delete from {{ this }} as t
        where
            (t.period_type, t.period_start) in (
                select r.period_type, r.period_start from owner_periods_rebuilt as r where r.owner_id is null
            )
            or t.owner_id in (
                select r.owner_id from owner_periods_rebuilt as r where r.period_type is null
            )
            or (t.owner_id, t.period_type, t.period_start) in (
                select r.owner_id, r.period_type, r.period_start from owner_periods_rebuilt as r
                where r.owner_id is not null and r.period_type is not null
            )
    {%- endif %}
{%- endmacro %}

{# In an incremental build of either model: true for a row (its owner and its day) that falls in a
   rebuilt day, owner or (owner, day) pair, so only those are scanned and aggregated; every row in a full
   build. The model defines rebuilt_days (rebuilt_day), rebuilt_owners (owner_id) and rebuilt_owner_days
   (owner_id, rebuilt_day) from its hook's table. #}
{% macro in_owner_periods_rebuilt(owner_id, fact_day) -%}
    {%- if is_incremental() -%}
        ({{ fact_day }} in (select rebuilt_day from rebuilt_days)
        or {{ owner_id }} in (select owner_id from rebuilt_owners)
        or ({{ owner_id }}, {{ fact_day }}) in (select owner_id, rebuilt_day from rebuilt_owner_days))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{# The rows of a fact table (`relation`, filtered by `where`) that int_owner_daily_counts counts: every
   row in a full build; in an incremental build the rows on a rebuilt day or a rebuilt pair's day (a head
   of service's pair counts every fact of its day), and every day's rows of the
   customers owned by an owner whose scope changed (in_owner_periods_rebuilt then keeps exactly the pairs
   to recompute). When the changed scope is the head of service's or a team lead's (their role or their
   queues), every row is read: any fact may count for them.
   Three disjoint parts, so that each reads its rows by an index (the fact's day, its customer) instead
   of the whole table: PostgreSQL cannot use an index for a condition that ORs them. The model defines
   rebuilt_days, rebuilt_owners, rebuilt_owner_days and owned_customers, heads and owner_queues. #}
{% macro owner_facts_rebuilt(relation, fact_day, where='true') -%}
    {%- if is_incremental() -%}
        {%- set days = 'array(select rebuilt_day from rebuilt_days union select rebuilt_day from rebuilt_owner_days)' -%}
        {%- set reads_all -%}
            exists (
                select 1 from rebuilt_owners as r
                where
                    r.owner_id in (select h.owner_id from heads as h)
                    or r.owner_id in (select q.owner_id from owner_queues as q)
            )
        {%- endset -%}
        select * from {{ relation }} as f
        where {{ where }} and f.{{ fact_day }} = any({{ days }}) and not {{ reads_all }}
        union all
        select * from {{ relation }} as f
        where
            {{ where }}
            and f.customer_id = any(array(
                select o.customer_id from owned_customers as o
                where o.owner_id in (select r.owner_id from rebuilt_owners as r)
            ))
            and coalesce(f.{{ fact_day }} <> all({{ days }}), true)
            and not {{ reads_all }}
        union all
        select * from {{ relation }} as f
        where {{ where }} and {{ reads_all }}
    {%- else -%}
        select * from {{ relation }} as f
        where {{ where }}
    {%- endif -%}
{%- endmacro %}

{# The customers a relationship owner owns (customer_id, owner_id): the CRM's accounts with an owner, which
   are dim_customer's rows with an owner (guests have none). Read from the CRM itself, so that the
   managers' scopes and counts do not wait for identity resolution and the golden record's build. #}
{% macro owned_customers() -%}
    select
        account_id as customer_id,
        owner_id
    from {{ ref('stg_crm__accounts') }}
    where owner_id is not null
{%- endmacro %}
