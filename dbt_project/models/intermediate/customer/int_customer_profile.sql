{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['customer_id'], 'unique': True},
            {'columns': ['owner_id']},
        ],
        post_hook=[
            "delete from {{ this }} as p where not exists
                (select 1 from {{ ref('dim_customer') }} as d where d.customer_id = p.customer_id)",
        ],
    )
}}
{#
  One row per customer (dim_customer): everything customer_360 shows except what moves with the
  calendar alone. customer_360 is a view over this table that adds the as-of date, the days since the
  last contact and order, and the scores; so a new day of data rewrites only the rows it changes, not
  every customer's "days since".

  The 30, 90 and 180-day figures are counted back from the as-of date (the newest day of data,
  hub_as_of_date), recorded as window_end_date. An incremental build recomputes:
  - every customer whose CRM record, owner or int_customer_lifetime row differs from the stored one
    (lifetime_built_at tells a rewritten or removed lifetime row; a new or changed fact always
    rewrites its customer's lifetime row);
  - every customer with a contact or order on the days that left a window since the stored as-of date
    (between the previous and the new as-of date, less 30, 90 or 180 days).
  Nothing else can change a stored row, so the table equals a full refresh. A customer no longer in
  dim_customer (merged away or erased) is removed (post-hook).
#}
{%- set ends = profile_window_ends() -%}
{%- set whole = ends is none -%}
{#- The window moves forward with new data, or back after an erasure: either way the days between the
    two as-of dates left a window. -#}
{%- set earlier_end = 'least(' ~ ends.previous ~ ', ' ~ ends.now ~ ')' if ends else 'null::date' -%}
{%- set later_end = 'greatest(' ~ ends.previous ~ ', ' ~ ends.now ~ ')' if ends else 'null::date' %}

with customers as (
    select
        cu.customer_id,
        cu.segment,
        cu.region,
        cu.owner_id,
        ow.owner_name,
        cu.customer_since,
        coalesce(l.value_to_date, 0) as value_to_date,
        coalesce(l.orders, 0) as orders,
        coalesce(l.completed_orders, 0) as completed_orders,
        l.last_order_date,
        coalesce(l.contacts, 0) as contacts,
        coalesce(l.contacts_handled, 0) as contacts_handled,
        coalesce(l.complaints, 0) as complaints,
        l.last_contact_date,
        coalesce(l.survey_responses, 0) as survey_responses,
        l.last_csat_score,
        l.average_csat_score,
        l.last_nps_score,
        l.average_nps_score,
        l.latest_sentiment,
        coalesce(l.cost_to_serve, 0) as cost_to_serve,
        l.built_at as lifetime_built_at
    from {{ ref('dim_customer') }} as cu
    left join {{ ref('dim_owner') }} as ow on cu.owner_id = ow.owner_id
    left join {{ ref('int_customer_lifetime') }} as l on cu.customer_id = l.customer_id
),

as_of as (
    select {{ ends.now if ends else hub_as_of_date() }} as as_of_date
),

-- The customers this build recomputes: all of them when it is built whole.
changed as (
    {% if whole %}
        select customer_id from customers
    {% else %}
        select c.customer_id
        from customers as c
        left join {{ this }} as p on c.customer_id = p.customer_id
        where
            p.customer_id is null
            or (c.segment, c.region, c.owner_id, c.owner_name, c.customer_since, c.lifetime_built_at)
            is distinct from (p.segment, p.region, p.owner_id, p.owner_name, p.customer_since, p.lifetime_built_at)
        union
        select customer_id from {{ ref('fct_contact') }}
        where contact_date > {{ earlier_end }} - 30 and contact_date <= {{ later_end }} - 30
        union
        select customer_id from {{ ref('fct_order') }}
        where
            (order_date > {{ earlier_end }} - 90 and order_date <= {{ later_end }} - 90)
            or (order_date > {{ earlier_end }} - 180 and order_date <= {{ later_end }} - 180)
    {% endif %}
),

recent_contacts as (
    select
        c.customer_id,
        count(*) filter (where c.is_complaint) as complaints_last_30_days,
        count(*) filter (where c.is_followed_by_repeat) as repeat_contacts_last_30_days
    from {{ ref('fct_contact') }} as c
    cross join as_of as a
    where
        c.customer_id is not null
        and c.contact_date > a.as_of_date - 30
        and c.customer_id in (select ch.customer_id from changed as ch)
    group by c.customer_id
),

recent_orders as (
    select
        o.customer_id,
        coalesce(sum(o.net_revenue) filter (where o.order_date > a.as_of_date - 90), 0) as revenue_last_90_days,
        coalesce(sum(o.net_revenue) filter (where o.order_date <= a.as_of_date - 90), 0)
            as revenue_previous_90_days
    from {{ ref('fct_order') }} as o
    cross join as_of as a
    where
        o.customer_id is not null
        and o.order_date > a.as_of_date - 180
        and o.customer_id in (select ch.customer_id from changed as ch)
    group by o.customer_id
),

final as (
    select
        cu.customer_id,
        cu.segment,
        cu.region,
        cu.owner_id,
        cu.owner_name,
        cu.customer_since,
        cu.value_to_date,
        cu.orders,
        cu.completed_orders,
        cu.last_order_date,
        cu.contacts,
        cu.contacts_handled,
        cu.complaints,
        cu.last_contact_date,
        cu.survey_responses,
        cu.last_csat_score,
        cu.average_csat_score,
        cu.last_nps_score,
        cu.average_nps_score,
        cu.latest_sentiment,
        cu.cost_to_serve,
        coalesce(o.revenue_last_90_days, 0) as revenue_last_90_days,
        coalesce(o.revenue_previous_90_days, 0) as revenue_previous_90_days,
        coalesce(c.complaints_last_30_days, 0) as complaints_last_30_days,
        coalesce(c.repeat_contacts_last_30_days, 0) as repeat_contacts_last_30_days,
        a.as_of_date as window_end_date,
        cu.lifetime_built_at,
        {{ built_at() }}
    from customers as cu
    cross join as_of as a
    left join recent_contacts as c on cu.customer_id = c.customer_id
    left join recent_orders as o on cu.customer_id = o.customer_id
    where cu.customer_id in (select ch.customer_id from changed as ch)
)

select * from final
