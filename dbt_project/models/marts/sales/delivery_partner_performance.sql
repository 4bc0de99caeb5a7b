{#
  One row per delivery partner and month (delivery_month, of the promised date): on-time delivery as KPIS.md
  defines it (delivered on or before the promised date / delivered), and the delivery complaints
  customers made about its parcels. A complaint counts against a partner when its reason is one of
  var delivery_reasons and the customer's latest order before it, placed within
  var delivery_complaint_window_days, went with that partner (int_delivery_complaints, which keeps
  each complaint's attribution between builds).
#}
with orders as not materialized (
    select * from {{ ref('fct_order') }}
    where delivery_partner is not null
),

complaints as (
    select
        delivery_partner,
        delivery_month,
        count(*) as delivery_complaints
    from {{ ref('int_delivery_complaints') }}
    group by delivery_partner, delivery_month
),

deliveries as (
    select
        delivery_partner,
        date_trunc('month', coalesce(promised_date, order_date))::date as delivery_month,
        count(*) as orders,
        count(*) filter (where is_delivered) as orders_delivered,
        count(*) filter (where is_on_time) as orders_delivered_on_time
    from orders
    group by delivery_partner, delivery_month
),

final as (
    select
        d.delivery_partner,
        d.delivery_month,
        d.orders,
        d.orders_delivered,
        d.orders_delivered_on_time,
        round(100.0 * d.orders_delivered_on_time / nullif(d.orders_delivered, 0), 2) as on_time_rate_pct,
        coalesce(c.delivery_complaints, 0) as delivery_complaints,
        round(1000.0 * coalesce(c.delivery_complaints, 0) / nullif(d.orders, 0), 2) as complaints_per_1000_orders
    from deliveries as d
    left join complaints as c on d.delivery_partner = c.delivery_partner and d.delivery_month = c.delivery_month
)

select * from final
