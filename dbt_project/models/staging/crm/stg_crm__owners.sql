with source as (
    {{ latest_by_key(source('crm', 'owner'), 'owner_id') }}
),

final as (
    select
        owner_id,
        owner_name,
        owner_email,
        role,
        nullif(btrim(manager_id), '') as manager_id
    from source
)

select * from final
