{#
  The contact-centre, voice-of-customer and delivery KPIs of each manager's scope, per week and per
  month, in long form (one row per owner, period and kpi), for the manager extracts and for BI.

  Scope follows the CRM's owners list: the head of service sees every contact, response and order; a
  team lead the contacts in their queues (ops.owner_queue, from INSIGHT_HUB_EXTRACTS) and the responses
  about them; a relationship owner the contacts, responses and orders of the customers whose account
  they own. The counts come from int_owner_daily_counts (taken at contact_centre_daily's grain and
  summed per owner and day) and the rates are recomputed from their sums with the charter's formulas
  (period_kpi_formulas), so the head of service's figures equal the charter's all-channel measures.

  Incremental by (owner, period): a daily build recomputes every owner's periods that hold a fact loaded
  since (the current week and month, and any period a late fact falls in), the periods of a fact
  rewritten without a load (a re-resolved customer, a changed repeat flag) for the owners it can count
  for, and every period of an owner whose scope changed; the hooks in macros/owner_periods.sql choose
  and delete those rows first.
#}
-- depends_on: {{ ref('fct_contact') }}, {{ ref('fct_survey_response') }}, {{ ref('fct_order') }}
-- depends_on: {{ ref('int_customer_records_resolved') }}, {{ ref('dim_owner') }}
-- depends_on: {{ ref('stg_ops__owner_queues') }}, {{ ref('stg_crm__accounts') }}
{#- Each extract and a BI filter on one owner read their rows by this index, not a scan of every owner's. #}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ owner_periods_rebuilt() }}", "{{ delete_owner_periods_rebuilt() }}"],
        indexes=[{'columns': ['owner_id', 'period_type', 'period_start']}, {'columns': ['built_at']}],
    )
}}
{%- set measures = period_kpi_formulas() %}

with scopes as (
    select * from {{ ref('int_owner_scopes') }}
),

{% if is_incremental() %}
    -- What the pre-hooks chose to recompute: whole periods for every owner, owners for every period,
    -- and owners in one period; the periods' days are what they read from int_owner_daily_counts.
    rebuilt_periods as (
        select
            period_type,
            period_start
        from owner_periods_rebuilt
        where owner_id is null
    ),

    rebuilt_days as (
        select distinct {{ days_of_period('period_type', 'period_start') }} as rebuilt_day
        from rebuilt_periods
    ),

    rebuilt_owners as (
        select owner_id from owner_periods_rebuilt
        where period_type is null
    ),

    rebuilt_owner_periods as (
        select
            owner_id,
            period_type,
            period_start
        from owner_periods_rebuilt
        where owner_id is not null and period_type is not null
    ),

    rebuilt_owner_days as (
        select distinct
            owner_id,
            {{ days_of_period('period_type', 'period_start') }} as rebuilt_day
        from rebuilt_owner_periods
    ),
{% endif %}

owner_days as (
    select * from {{ ref('int_owner_daily_counts') }}
    where {{ in_owner_periods_rebuilt('owner_id', 'fact_day') }}
),

periods as (
    select 'week' as period_type
    union all
    select 'month' as period_type
),

period_totals as (
    select
        d.owner_id,
        p.period_type,
        date_trunc(p.period_type, d.fact_day)::date as period_start,
        sum(d.contacts_offered) as offered,
        sum(d.contacts_handled) as handled,
        sum(d.contacts_abandoned) as abandoned,
        sum(d.contacts_within_service_level) as within_service_level,
        sum(d.total_answer_seconds) as answer_seconds,
        sum(d.total_handle_seconds) as handle_seconds,
        sum(d.contacts_followed_by_repeat) as repeats,
        sum(d.complaints) as complaints,
        sum(d.customers_handled) as customers_handled,
        sum(d.customers_resolved_first_contact) as customers_resolved,
        sum(d.csat_responses) as csat_responses,
        sum(d.csat_satisfied) as csat_satisfied,
        sum(d.nps_responses) as nps_responses,
        sum(d.promoters) as promoters,
        sum(d.detractors) as detractors,
        sum(d.ces_responses) as ces_responses,
        sum(d.ces_score_total) as ces_score_total,
        sum(d.delivered) as delivered,
        sum(d.on_time) as on_time
    from owner_days as d
    cross join periods as p
    group by d.owner_id, p.period_type, date_trunc(p.period_type, d.fact_day)::date
),

contact_volume as (
    select
        owner_id,
        period_type,
        period_start,
        'contacts_offered' as kpi,
        offered::numeric as measured_value,
        offered as base
    from period_totals
    union all
    select
        owner_id,
        period_type,
        period_start,
        'complaints' as kpi,
        complaints::numeric as measured_value,
        handled as base
    from period_totals
),

measures as (
    select * from contact_volume
    {#- period_totals holds the contact, survey and delivery totals each formula reads. #}
    {%- for kpi, formula, base, _ in measures %}
        union all
        select
            owner_id,
            period_type,
            period_start,
            '{{ kpi }}' as kpi,
            round({{ formula }}, 2) as measured_value,
            {{ base }} as base
        from period_totals
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
                or (m.owner_id, m.period_type, m.period_start) in (
                    select
                        p.owner_id,
                        p.period_type,
                        p.period_start
                    from rebuilt_owner_periods as p
                )
            )
        {%- endif %}
)

select * from final
