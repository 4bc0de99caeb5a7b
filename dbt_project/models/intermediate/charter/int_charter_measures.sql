{#
  Every measure a charter promise can name, per week and per month, for each channel and for all
  channels together (channel null), in long form: one row per period, channel and kpi, with the
  measured value and the count it rests on. Rates are recomputed from the daily counts and sums,
  never averaged; FCR sums the daily counts of customers, so a customer who contacted on two days
  counts twice.

  Incremental by period: a build recomputes every week and month holding a day of a contact or
  survey response (so a day contact_centre_daily or survey_daily rewrote), or a promised delivery
  date of an order, written since this model's last build; a daily build so reads the current week and month, not
  the whole history.
#}
{{
    config(
        materialized='incremental',
        unique_key=['period_type', 'period_start'],
        incremental_strategy='delete+insert',
    )
}}
-- depends_on: {{ ref('fct_contact') }}, {{ ref('fct_survey_response') }}
{%- set measures = period_kpi_formulas() %}
{%- set rebuilt_days = rebuilt_day_literals() if is_incremental() else none %}

with contact_daily as (
    select * from {{ ref('contact_centre_daily') }}
),

survey_daily as (
    select * from {{ ref('survey_daily') }}
),

orders as (
    select * from {{ ref('fct_order') }}
    where is_delivered and promised_date is not null
),

periods as (
    {{ period_types() }}
),

{% if is_incremental() %}
    {{ period_days_rebuilt() }}
{% endif %}

-- Each day's counts per channel first: a month holds a few rows per channel and day, not one per
-- queue and agent (the period grouping below then sorts hundreds of rows instead of half a million).
contact_channel_days as (
    select
        contact_date,
        channel,
        sum(contacts_offered) as offered,
        sum(contacts_handled) as handled,
        sum(contacts_abandoned) as abandoned,
        sum(contacts_within_service_level) as within_service_level,
        sum(total_answer_seconds) as answer_seconds,
        sum(total_handle_seconds) as handle_seconds,
        sum(contacts_followed_by_repeat) as repeats,
        sum(complaints) as complaints,
        sum(customers_handled) as customers_handled,
        sum(customers_resolved_first_contact) as customers_resolved
    from contact_daily
    group by contact_date, channel
),

contact_periods as (
    select
        p.period_type,
        date_trunc(p.period_type, c.contact_date)::date as period_start,
        c.*
    from contact_channel_days as c
    {{ join_periods_rebuilt('c.contact_date', rebuilt_days) }}
),

contact_totals as (
    select
        period_type,
        period_start,
        channel,
        sum(offered) as offered,
        sum(handled) as handled,
        sum(abandoned) as abandoned,
        sum(within_service_level) as within_service_level,
        sum(answer_seconds) as answer_seconds,
        sum(handle_seconds) as handle_seconds,
        sum(repeats) as repeats,
        sum(complaints) as complaints,
        sum(customers_handled) as customers_handled,
        sum(customers_resolved) as customers_resolved
    from contact_periods
    group by grouping sets ((period_type, period_start, channel), (period_type, period_start))
),

survey_periods as (
    select
        p.period_type,
        date_trunc(p.period_type, s.response_date)::date as period_start,
        s.contact_channel as channel,
        s.survey_type,
        s.responses,
        s.csat_satisfied,
        s.promoters,
        s.detractors,
        s.ces_score_total
    from survey_daily as s
    {{ join_periods_rebuilt('s.response_date', rebuilt_days) }}
),

survey_totals as (
    select
        period_type,
        period_start,
        channel,
        sum(responses) filter (where survey_type = 'csat') as csat_responses,
        sum(csat_satisfied) as csat_satisfied,
        sum(responses) filter (where survey_type = 'nps') as nps_responses,
        sum(promoters) as promoters,
        sum(detractors) as detractors,
        sum(responses) filter (where survey_type = 'ces') as ces_responses,
        sum(ces_score_total) as ces_score_total
    from survey_periods
    -- A response not linked to a contact has no channel: it counts only in the all-channel row.
    group by grouping sets ((period_type, period_start, channel), (period_type, period_start))
    having grouping(channel) = 1 or channel is not null
),

delivery_days as (
    select
        promised_date,
        count(*) as delivered,
        count(*) filter (where is_on_time) as on_time
    from orders
    group by promised_date
),

delivery_totals as (
    select
        p.period_type,
        date_trunc(p.period_type, o.promised_date)::date as period_start,
        sum(o.delivered) as delivered,
        sum(o.on_time) as on_time
    from delivery_days as o
    {{ join_periods_rebuilt('o.promised_date', rebuilt_days) }}
    group by p.period_type, date_trunc(p.period_type, o.promised_date)::date
),

measures as (
    {%- for kpi, formula, base, totals in measures %}
        select
            period_type,
            period_start,
            {{ 'null::text' if totals == 'delivery_totals' else 'channel' }} as channel,
            '{{ kpi }}' as kpi,
            round({{ formula }}, 2) as measured_value,
            {{ base }} as base,
            {{ built_at() }}
        from {{ totals }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select * from measures
    where base > 0
)

select * from final
