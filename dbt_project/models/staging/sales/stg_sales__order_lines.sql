with source as (
    {{ latest_by_key(source('sales', 'order_line'), 'order_id, line_number') }}
),

final as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price,
        quantity * unit_price as line_amount
    from source
)

select * from final
