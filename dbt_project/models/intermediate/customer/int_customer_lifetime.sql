{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['customer_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
        post_hook=["delete from {{ this }} where fact_rows = 0"],
    )
}}
{#
  One row per customer with any contact, order or survey response: what their whole history adds up to,
  and their figures of the last 30, 90 and 180 days counted back from the as-of date (hub_as_of_date,
  recorded as window_end_date). customer_360 adds what moves with the calendar alone (the days since,
  the scores), so a new day recomputes here only the customers it changes.

  Incremental: a build recomputes, from all their facts, the customers a contact, order or survey
  response built since the last build belongs to (new, late, re-resolved to them, or rebuilt for any
  other reason) and the customers identity resolution took a record from since then
  (int_customer_records_resolved.previous_customer_id). The other customers with a contact or order on a
  day that crossed a window edge since the stored as-of date (between the previous and the new as-of
  date, less 30, 90 or 180 days) keep every figure but their window counts, and those move by what
  crossed: when the as-of date moves forward (a new day), the facts that left a window are taken off
  its count and added to the one before it (revenue_previous_90_days), reading only the facts of those
  days instead of the customers' whole history (a customer whose counts nothing moved is not rewritten:
  a contact that was no complaint or repeat leaving the last 30 days changes none); when it moves back
  (after an erasure), these customers are recomputed from all their facts too. Nothing else can change
  a stored row. A customer left with no fact at all is removed (post-hook), as a full refresh would
  never have written them. Both models build in the same `dbt build`; a full refresh of
  int_customer_records_resolved on its own forgets the customers records left, so give this model one
  then too.

  The touched customers' facts are read through the customer indexes of fct_contact, fct_order and
  fct_survey_response, which hold every column read here, so the reads need not visit the tables
  (macros/visibility.sql): a fact column this model starts to read belongs in its fact's index too.
#}
{%- set ends = window_ends() -%}
{%- set earlier_end = 'least(' ~ ends.previous ~ ', ' ~ ends.now ~ ')' if ends else 'null::date' -%}
{%- set later_end = 'greatest(' ~ ends.previous ~ ', ' ~ ends.now ~ ')' if ends else 'null::date' %}
{%- set moved_forward = ends.previous ~ ' < ' ~ ends.now if ends else 'false' %}
{%- set left_90_days = 'order_date > ' ~ earlier_end ~ ' - 90 and order_date <= ' ~ later_end ~ ' - 90' %}
{%- set left_180_days = 'order_date > ' ~ earlier_end ~ ' - 180 and order_date <= ' ~ later_end ~ ' - 180' %}
-- depends_on: {{ ref('int_customer_records_resolved') }}
with contacts as not materialized (
    select * from {{ ref('fct_contact') }}
    where customer_id is not null
),

orders as not materialized (
    select * from {{ ref('fct_order') }}
    where customer_id is not null
),

responses as not materialized (
    select * from {{ ref('fct_survey_response') }}
    where customer_id is not null
),

as_of as (
    select {{ ends.now if ends else hub_as_of_date() }} as as_of_date
),

{% if is_incremental() %}
    {%- set since = high_water('built_at') %}
    written as (
        select customer_id from contacts
        where built_at > {{ since }}
        union
        select customer_id from orders
        where built_at > {{ since }}
        union
        select customer_id from responses
        where built_at > {{ since }}
        union
        select previous_customer_id as customer_id
        from {{ ref('int_customer_records_resolved') }}
        where built_at > {{ since }} and previous_customer_id is not null
    ),

    -- What crossed a window edge, per customer: contacts of the days that left the last 30 days, and
    -- order revenue of the days that left the last 90 and the 90 before (dates between the earlier and
    -- the later as-of date, less 30, 90 or 180 days).
    crossed_contacts as (
        select
            customer_id,
            count(*) filter (where is_complaint) as complaints,
            count(*) filter (where is_followed_by_repeat) as repeat_contacts
        from contacts
        where contact_date > {{ earlier_end }} - 30 and contact_date <= {{ later_end }} - 30
        group by customer_id
    ),

    crossed_orders as (
        select
            customer_id,
            -- Both ranges, not one or the other: after a jump of more than 90 days they overlap, and an
            -- order in both left the last 90 days and the 90 before.
            coalesce(sum(net_revenue) filter (where {{ left_90_days }}), 0) as revenue_90_days_back,
            coalesce(sum(net_revenue) filter (where {{ left_180_days }}), 0) as revenue_180_days_back
        from orders
        where ({{ left_90_days }}) or ({{ left_180_days }})
        group by customer_id
    ),

    crossed as (
        select customer_id from crossed_contacts
        union
        select customer_id from crossed_orders
    ),

    -- Recomputed from all their facts.
    touched as (
        select customer_id from written
        union
        select customer_id from crossed
        where not ({{ moved_forward }})
    ),

    -- Moved forward by what crossed: their stored row, its window counts less what left them.
    shifted as (
        select
            l.customer_id,
            l.fact_rows,
            l.contacts,
            l.contacts_handled,
            l.complaints,
            l.cost_to_serve,
            l.last_contact_date,
            l.orders,
            l.completed_orders,
            l.value_to_date,
            l.last_order_date,
            l.survey_responses,
            l.last_csat_score,
            l.average_csat_score,
            l.last_nps_score,
            l.average_nps_score,
            l.latest_sentiment,
            l.complaints_last_30_days - coalesce(cc.complaints, 0) as complaints_last_30_days,
            l.repeat_contacts_last_30_days - coalesce(cc.repeat_contacts, 0) as repeat_contacts_last_30_days,
            trim_scale(l.revenue_last_90_days - coalesce(co.revenue_90_days_back, 0)) as revenue_last_90_days,
            trim_scale(
                l.revenue_previous_90_days
                + coalesce(co.revenue_90_days_back, 0)
                - coalesce(co.revenue_180_days_back, 0)
            ) as revenue_previous_90_days,
            (select a.as_of_date from as_of as a) as window_end_date,
            {{ built_at() }}
        from {{ this }} as l
        left join crossed_contacts as cc on l.customer_id = cc.customer_id
        left join crossed_orders as co on l.customer_id = co.customer_id
        where
            {{ moved_forward }}
            and l.customer_id in (select x.customer_id from crossed as x)
            and l.customer_id not in (select w.customer_id from written as w)
            -- A customer whose crossing facts were no complaint or repeat and no revenue keeps their row.
            and (
                coalesce(cc.complaints, 0) <> 0
                or coalesce(cc.repeat_contacts, 0) <> 0
                or coalesce(co.revenue_90_days_back, 0) <> 0
                or coalesce(co.revenue_180_days_back, 0) <> 0
            )
    ),
{% endif %}
{#- An incremental build aggregates the touched customers' facts only. #}
{%- set of_touched_customers -%}
    {% if is_incremental() %}where customer_id in (select t.customer_id from touched as t){% endif %}
{%- endset %}

contact_summary as (
    select
        c.customer_id,
        count(*) as contact_rows,
        count(*) filter (where c.is_offered) as contacts,
        count(*) filter (where c.is_handled) as contacts_handled,
        count(*) filter (where c.is_complaint) as complaints,
        coalesce(sum(c.agent_cost), 0) as cost_to_serve,
        max(c.contact_date) as last_contact_date,
        count(*) filter (where c.is_complaint and c.contact_date > a.as_of_date - 30) as complaints_last_30_days,
        count(*) filter (where c.is_followed_by_repeat and c.contact_date > a.as_of_date - 30)
            as repeat_contacts_last_30_days
    from contacts as c
    cross join as_of as a
    {{ of_touched_customers }}
    group by c.customer_id
),

order_summary as (
    select
        o.customer_id,
        count(*) as orders,
        count(*) filter (where o.status = 'completed') as completed_orders,
        sum(o.net_revenue) as value_to_date,
        max(o.order_date) as last_order_date,
        coalesce(sum(o.net_revenue) filter (where o.order_date > a.as_of_date - 90), 0) as revenue_last_90_days,
        coalesce(
            sum(o.net_revenue) filter (where o.order_date > a.as_of_date - 180 and o.order_date <= a.as_of_date - 90),
            0
        ) as revenue_previous_90_days
    from orders as o
    cross join as_of as a
    {{ of_touched_customers }}
    group by o.customer_id
),

survey_ranked as (
    select
        r.customer_id,
        r.survey_type,
        r.score,
        row_number() over (partition by r.customer_id, r.survey_type order by r.submitted_at desc) as recency_by_type,
        row_number() over (partition by r.customer_id order by r.submitted_at desc) as recency
    from responses as r
    {{ of_touched_customers }}
),

survey_summary as (
    select
        customer_id,
        count(*) as survey_responses,
        max(score) filter (where survey_type = 'csat' and recency_by_type = 1) as last_csat_score,
        round(avg(score) filter (where survey_type = 'csat'), 2) as average_csat_score,
        max(score) filter (where survey_type = 'nps' and recency_by_type = 1) as last_nps_score,
        round(avg(score) filter (where survey_type = 'nps'), 2) as average_nps_score,
        max(
            case survey_type
                when 'csat' then (score - 1) * 100.0 / 4
                when 'nps' then score * 10.0
                when 'ces' then (score - 1) * 100.0 / 6
            end
        ) filter (where recency = 1) as latest_sentiment
    from survey_ranked
    group by customer_id
),

customers as (
    {% if is_incremental() %}
        select customer_id from touched
    {% else %}
        select customer_id from contact_summary
        union
        select customer_id from order_summary
        union
        select customer_id from survey_summary
    {% endif %}
),

final as (
    select
        cu.customer_id,
        coalesce(c.contact_rows, 0) + coalesce(o.orders, 0) + coalesce(s.survey_responses, 0) as fact_rows,
        coalesce(c.contacts, 0) as contacts,
        coalesce(c.contacts_handled, 0) as contacts_handled,
        coalesce(c.complaints, 0) as complaints,
        coalesce(c.cost_to_serve, 0) as cost_to_serve,
        c.last_contact_date,
        coalesce(o.orders, 0) as orders,
        coalesce(o.completed_orders, 0) as completed_orders,
        coalesce(o.value_to_date, 0) as value_to_date,
        o.last_order_date,
        coalesce(s.survey_responses, 0) as survey_responses,
        s.last_csat_score,
        s.average_csat_score,
        s.last_nps_score,
        s.average_nps_score,
        s.latest_sentiment,
        coalesce(c.complaints_last_30_days, 0) as complaints_last_30_days,
        coalesce(c.repeat_contacts_last_30_days, 0) as repeat_contacts_last_30_days,
        -- Without trailing zeros (trim_scale): the same sum written as 0, 0.00 or 12.50 by a full build and
        -- by a shift (below) is stored one way.
        trim_scale(coalesce(o.revenue_last_90_days, 0)) as revenue_last_90_days,
        trim_scale(coalesce(o.revenue_previous_90_days, 0)) as revenue_previous_90_days,
        (select a.as_of_date from as_of as a) as window_end_date,
        {{ built_at() }}
    from customers as cu
    left join contact_summary as c on cu.customer_id = c.customer_id
    left join order_summary as o on cu.customer_id = o.customer_id
    left join survey_summary as s on cu.customer_id = s.customer_id
    {% if is_incremental() %}
        union all
        select
            customer_id,
            fact_rows,
            contacts,
            contacts_handled,
            complaints,
            cost_to_serve,
            last_contact_date,
            orders,
            completed_orders,
            value_to_date,
            last_order_date,
            survey_responses,
            last_csat_score,
            average_csat_score,
            last_nps_score,
            average_nps_score,
            latest_sentiment,
            complaints_last_30_days,
            repeat_contacts_last_30_days,
            revenue_last_90_days,
            revenue_previous_90_days,
            window_end_date,
            built_at
        from shifted
    {% endif %}
)

select * from final
