with lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

final as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price,
        line_amount
    from lines
)

select * from final
