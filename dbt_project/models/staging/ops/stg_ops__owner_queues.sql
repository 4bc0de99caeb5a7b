with source as (
    select * from {{ source('ops', 'owner_queue') }}
),

final as (
    select
        owner_id,
        queue
    from source
)

select * from final
