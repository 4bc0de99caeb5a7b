{# One row per order day and currency: orders, net revenue and average order value (KPIS.md). #}
{{
    config(
        materialized='incremental',
        unique_key='order_date',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['order_date']}],
    )
}}
with orders as (
    select * from {{ ref('fct_order') }}
    {% if is_incremental() %}
        where order_date in ({{ days_rebuilt(ref('fct_order'), 'order_date') }})
    {% endif %}
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
        round(net_revenue / nullif(completed_orders, 0), 2) as average_order_value,
        {{ built_at() }}
    from daily
)

select * from final
