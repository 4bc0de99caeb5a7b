with source as (
    {{ latest_by_key(source('sales', 'order'), 'order_id') }}
),

final as (
    select
        order_id,
        nullif(btrim(customer_crm_id), '') as customer_crm_id,
        {{ normalize_email('customer_email') }} as customer_email,
        ordered_at,
        status,
        order_total,
        currency,
        delivery_partner,
        promised_date,
        delivered_date
    from source
)

select * from final
