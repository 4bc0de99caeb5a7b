{#
  One row per delivery partner and month (delivery_month, of the promised date): on-time delivery as KPIS.md
  defines it (delivered on or before the promised date / delivered), and the delivery complaints
  customers made about its parcels. A complaint counts against a partner when its reason is one of
  var delivery_reasons and the customer's latest order before it, placed within
  var delivery_complaint_window_days, went with that partner.
#}
with orders as not materialized (
    select * from {{ ref('fct_order') }}
    where delivery_partner is not null
),

contacts as (
    select * from {{ ref('fct_contact') }}
    where
        is_complaint
        and customer_id is not null
        and reason in (select jsonb_array_elements_text('{{ var("delivery_reasons") | tojson }}'::jsonb))
),

-- Each complaint's latest order, looked up by fct_order's (customer_id, ordered_at) index: a
-- complaint reads one or two of its customer's orders, not every order of the history.
complaint_orders as (
    select
        c.interaction_id,
        o.delivery_partner,
        date_trunc('month', coalesce(o.promised_date, o.order_date))::date as delivery_month
    from contacts as c
    cross join lateral (
        select
            latest.delivery_partner,
            latest.promised_date,
            latest.order_date
        from orders as latest
        where
            latest.customer_id = c.customer_id
            and latest.ordered_at <= c.queued_at
            and latest.ordered_at > c.queued_at - interval '1 day' * {{ var('delivery_complaint_window_days') }}
        order by latest.ordered_at desc, latest.order_id desc
        limit 1
    ) as o
),

complaints as (
    select
        delivery_partner,
        delivery_month,
        count(*) as delivery_complaints
    from complaint_orders
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
