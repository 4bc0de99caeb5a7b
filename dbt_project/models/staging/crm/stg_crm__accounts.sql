with source as (
    {{ latest_by_key(source('crm', 'account'), 'account_id') }}
),

final as (
    select
        account_id,
        account_name,
        segment,
        region,
        owner_id,
        created_at
    from source
)

select * from final
