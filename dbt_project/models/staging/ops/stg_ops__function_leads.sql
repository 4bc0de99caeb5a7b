with source as (
    select * from {{ source('ops', 'function_lead') }}
),

final as (
    select
        function_name,
        owner_id
    from source
)

select * from final
