{# One row per order day and currency: orders, net revenue and average order value (KPIS.md). #}
with orders as (
    select * from {{ ref('fct_order') }}
),

daily as (
    select
        order_date,
        currency,
        count(*) as orders,
        count(*) filter (where status = 'completed') as completed_orders,
        count(*) filter (where status = 'returned') as returned_orders,
        count(distinct customer_id) as customers,
        sum(units) as units,
        sum(net_revenue) as net_revenue
    from orders
    group by order_date, currency
),

final as (
    select
        *,
        round(net_revenue / nullif(completed_orders, 0), 2) as average_order_value
    from daily
)

select * from final
