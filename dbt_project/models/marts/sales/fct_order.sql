{#
  One row per order with its customer, value and delivery. Net revenue follows KPIS.md: completed
  orders, net of refunds. No refund feed exists yet, so a returned order counts as fully refunded
  (net revenue 0) and every other status as not yet revenue.

  Incremental: a build rebuilds the orders published since the last one, those with lines published
  since, and those whose customer the identity models now resolve differently.
#}
{#- The order_date index finds the newest day (customer_360's as-of date) and its last 180 days without reading
    the whole table; the promised_date index the deliveries of the days int_owner_daily_counts rebuilds. The
    customer index holds every column int_customer_lifetime sums, so it reads a customer's orders from the
    index alone (macros/visibility.sql). #}
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['order_id'], 'unique': True},
            {'columns': ['loaded_at']},
            {'columns': ['lines_loaded_at']},
            {'columns': ['built_at']},
            {'columns': ['order_date']},
            {'columns': ['promised_date']},
            {'columns': ['customer_id', 'ordered_at', 'order_id', 'order_date', 'status', 'net_revenue']},
        ],
        meta={'vacuum_after_build': true},
    )
}}
with orders as not materialized (
    select * from {{ ref('stg_sales__orders') }}
),

lines as not materialized (
    select * from {{ ref('stg_sales__order_lines') }}
),

resolved as not materialized (
    select
        record_id as order_id,
        customer_id,
        built_at
    from {{ ref('int_customer_records_resolved') }}
    where record_type = 'order'
),

{% if is_incremental() %}
    to_build as (
        select order_id from orders
        where loaded_at > {{ high_water('loaded_at') }}
        union
        select order_id from lines
        where loaded_at > {{ high_water('lines_loaded_at') }}
        union
        {{ resolved_differently('resolved', 'order_id') }}
    ),
{% endif %}
line_totals as (
    select
        order_id,
        count(*) as order_lines,
        sum(quantity) as units,
        max(loaded_at) as lines_loaded_at
    from lines
    {% if is_incremental() %}
        where order_id in (select b.order_id from to_build as b)
    {% endif %}
    group by order_id
),

final as (
    select
        o.order_id,
        r.customer_id,
        o.ordered_at,
        (o.ordered_at at time zone '{{ var("reporting_timezone") }}')::date as order_date,
        o.status,
        o.currency,
        o.order_total,
        case when o.status = 'completed' then o.order_total else 0 end as net_revenue,
        coalesce(l.order_lines, 0) as order_lines,
        coalesce(l.units, 0) as units,
        o.delivery_partner,
        o.promised_date,
        o.delivered_date,
        o.delivered_date is not null as is_delivered,
        o.delivered_date <= o.promised_date as is_on_time,
        o.delivered_date - (o.ordered_at at time zone '{{ var("reporting_timezone") }}')::date as delivery_days,
        o.loaded_at,
        l.lines_loaded_at,
        {{ built_at() }}
    from orders as o
    left join resolved as r on o.order_id = r.order_id
    left join line_totals as l on o.order_id = l.order_id
    {% if is_incremental() %}
        where o.order_id in (select b.order_id from to_build as b)
    {% endif %}
)

select * from final
