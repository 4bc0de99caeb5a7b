{#
  One row per order with its customer, value and delivery. Net revenue follows KPIS.md: completed
  orders, net of refunds. No refund feed exists yet, so a returned order counts as fully refunded
  (net revenue 0) and every other status as not yet revenue.
#}
with orders as (
    select * from {{ ref('stg_sales__orders') }}
),

lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

resolved as (
    select
        record_id as order_id,
        customer_id
    from {{ ref('int_customer_records_resolved') }}
    where record_type = 'order'
),

line_totals as (
    select
        order_id,
        count(*) as order_lines,
        sum(quantity) as units
    from lines
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
        o.delivered_date - (o.ordered_at at time zone '{{ var("reporting_timezone") }}')::date as delivery_days
    from orders as o
    left join resolved as r on o.order_id = r.order_id
    left join line_totals as l on o.order_id = l.order_id
)

select * from final
