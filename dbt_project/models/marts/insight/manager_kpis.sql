{#
  The contact-centre, voice-of-customer and delivery KPIs of each manager's scope, per week and per
  month, in long form (one row per owner, period and kpi), for the manager extracts and for BI.

  Scope follows the CRM's owners list: the head of service sees every contact, response and order; a
  team lead the contacts in their queues (ops.owner_queue, from INSIGHT_HUB_EXTRACTS) and the responses
  about them; a relationship owner the contacts, responses and orders of the customers whose account
  they own. Counts are taken at contact_centre_daily's grain (day, queue, channel, agent) and the
  rates recomputed from their sums with the charter's formulas (period_kpi_formulas), so the head of
  service's figures equal the charter's all-channel measures.

  Incremental by (owner, period): a daily build recomputes every owner's current week and month (and any
  period a late or re-resolved fact falls in), and every period of an owner whose scope changed; the
  hooks in macros/owner_periods.sql choose and delete those rows first.
#}
{#- Each extract and a BI filter on one owner read their rows by this index, not a scan of every owner's. #}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ owner_periods_rebuilt() }}", "{{ delete_owner_periods_rebuilt() }}"],
        indexes=[{'columns': ['owner_id', 'period_type', 'period_start']}],
    )
}}
{%- set measures = period_kpi_formulas() %}

with owners as (
    select * from {{ ref('dim_owner') }}
),

scopes as (
    select * from {{ ref('int_owner_scopes') }}
),

owner_queues as (
    select * from {{ ref('stg_ops__owner_queues') }}
),

owned_customers as (
    select
        customer_id,
        owner_id
    from {{ ref('dim_customer') }}
    where owner_id is not null
),

{% if is_incremental() %}
    -- What the pre-hooks chose to recompute: whole periods for every owner, and owners for every period.
    rebuilt_periods as (
        select
            period_type,
            period_start
        from owner_periods_rebuilt
        where owner_id is null
    ),

    rebuilt_days as (
        select distinct
            generate_series(
                period_start, period_start + ('1 ' || period_type)::interval - interval '1 day', interval '1 day'
            )::date as rebuilt_day
        from rebuilt_periods
    ),

    rebuilt_owners as (
        select owner_id from owner_periods_rebuilt
        where owner_id is not null
    ),
{% endif %}

contacts as (
    select * from {{ ref('fct_contact') }}
    where is_offered and {{ on_day_rebuilt('contact_date') }}
),

responses as (
    select * from {{ ref('fct_survey_response') }}
    where {{ on_day_rebuilt('response_date') }}
),

delivered_orders as (
    select * from {{ ref('fct_order') }}
    where is_delivered and promised_date is not null and {{ on_day_rebuilt('promised_date') }}
),

periods as (
    select 'week' as period_type
    union all
    select 'month' as period_type
),

heads as (
    select owner_id from owners
    where role = 'head_of_service'
),

scoped_contacts as (
    select
        h.owner_id,
        c.*
    from heads as h
    cross join contacts as c
    where {{ in_owner_periods_rebuilt('h.owner_id', 'c.contact_date') }}
    union all
    select
        q.owner_id,
        c.*
    from owner_queues as q
    inner join contacts as c on q.queue = c.queue
    where {{ in_owner_periods_rebuilt('q.owner_id', 'c.contact_date') }}
    union all
    select
        o.owner_id,
        c.*
    from owned_customers as o
    inner join contacts as c on o.customer_id = c.customer_id
    where {{ in_owner_periods_rebuilt('o.owner_id', 'c.contact_date') }}
),

contact_daily as (
    select
        owner_id,
        contact_date,
        count(*) as contacts_offered,
        count(*) filter (where is_handled) as contacts_handled,
        count(*) filter (where is_abandoned) as contacts_abandoned,
        count(*) filter (where is_within_service_level) as contacts_within_service_level,
        sum(answer_seconds) filter (where is_handled) as total_answer_seconds,
        sum(handle_seconds) filter (where is_handled) as total_handle_seconds,
        count(*) filter (where is_followed_by_repeat) as contacts_followed_by_repeat,
        count(*) filter (where is_complaint) as complaints,
        count(distinct customer_id) filter (where is_handled) as customers_handled,
        count(distinct customer_id) filter (where is_first_contact_resolution) as customers_resolved_first_contact
    from scoped_contacts
    group by owner_id, contact_date, queue, channel, agent_id
),

contact_totals as (
    select
        d.owner_id,
        p.period_type,
        date_trunc(p.period_type, d.contact_date)::date as period_start,
        sum(d.contacts_offered) as offered,
        sum(d.contacts_handled) as handled,
        sum(d.contacts_abandoned) as abandoned,
        sum(d.contacts_within_service_level) as within_service_level,
        sum(d.total_answer_seconds) as answer_seconds,
        sum(d.total_handle_seconds) as handle_seconds,
        sum(d.contacts_followed_by_repeat) as repeats,
        sum(d.complaints) as complaints,
        sum(d.customers_handled) as customers_handled,
        sum(d.customers_resolved_first_contact) as customers_resolved
    from contact_daily as d
    cross join periods as p
    group by d.owner_id, p.period_type, date_trunc(p.period_type, d.contact_date)::date
),

scoped_responses as (
    select
        h.owner_id,
        r.*
    from heads as h
    cross join responses as r
    where {{ in_owner_periods_rebuilt('h.owner_id', 'r.response_date') }}
    union all
    select
        q.owner_id,
        r.*
    from owner_queues as q
    inner join responses as r on q.queue = r.contact_queue
    where {{ in_owner_periods_rebuilt('q.owner_id', 'r.response_date') }}
    union all
    select
        o.owner_id,
        r.*
    from owned_customers as o
    inner join responses as r on o.customer_id = r.customer_id
    where {{ in_owner_periods_rebuilt('o.owner_id', 'r.response_date') }}
),

survey_totals as (
    select
        r.owner_id,
        p.period_type,
        date_trunc(p.period_type, r.response_date)::date as period_start,
        count(*) filter (where r.survey_type = 'csat') as csat_responses,
        count(*) filter (where r.is_csat_satisfied) as csat_satisfied,
        count(*) filter (where r.survey_type = 'nps') as nps_responses,
        count(*) filter (where r.is_promoter) as promoters,
        count(*) filter (where r.is_detractor) as detractors,
        count(*) filter (where r.survey_type = 'ces') as ces_responses,
        sum(r.score) filter (where r.survey_type = 'ces') as ces_score_total
    from scoped_responses as r
    cross join periods as p
    group by r.owner_id, p.period_type, date_trunc(p.period_type, r.response_date)::date
),

scoped_orders as (
    select
        h.owner_id,
        o.*
    from heads as h
    cross join delivered_orders as o
    where {{ in_owner_periods_rebuilt('h.owner_id', 'o.promised_date') }}
    union all
    select
        c.owner_id,
        o.*
    from owned_customers as c
    inner join delivered_orders as o on c.customer_id = o.customer_id
    where {{ in_owner_periods_rebuilt('c.owner_id', 'o.promised_date') }}
),

delivery_totals as (
    select
        o.owner_id,
        p.period_type,
        date_trunc(p.period_type, o.promised_date)::date as period_start,
        count(*) as delivered,
        count(*) filter (where o.is_on_time) as on_time
    from scoped_orders as o
    cross join periods as p
    group by o.owner_id, p.period_type, date_trunc(p.period_type, o.promised_date)::date
),

contact_volume as (
    select
        owner_id,
        period_type,
        period_start,
        'contacts_offered' as kpi,
        offered::numeric as measured_value,
        offered as base
    from contact_totals
    union all
    select
        owner_id,
        period_type,
        period_start,
        'complaints' as kpi,
        complaints::numeric as measured_value,
        handled as base
    from contact_totals
),

measures as (
    select * from contact_volume
    {%- for kpi, formula, base, totals in measures %}
        union all
        select
            owner_id,
            period_type,
            period_start,
            '{{ kpi }}' as kpi,
            round({{ formula }}, 2) as measured_value,
            {{ base }} as base
        from {{ totals }}
    {%- endfor %}
),

final as (
    select
        m.owner_id,
        m.period_type,
        m.period_start,
        m.kpi,
        m.measured_value,
        m.base,
        s.scope_hash,
        {{ built_at() }}
    from measures as m
    left join scopes as s on m.owner_id = s.owner_id
    where
        m.base > 0
        {%- if is_incremental() %}
            -- A fact in a rebuilt week can fall in a month that is not rebuilt: that month is left as is.
            and (
                (m.period_type, m.period_start) in (
                    select
                        p.period_type,
                        p.period_start
                    from rebuilt_periods as p
                )
                or m.owner_id in (select o.owner_id from rebuilt_owners as o)
            )
        {%- endif %}
)

select * from final
