with source as (
    {{ latest_by_key(source('sales', 'payment'), 'order_id, payment_sequence') }}
),

final as (
    select
        order_id,
        payment_sequence,
        payment_type,
        installments,
        amount
    from source
)

select * from final
