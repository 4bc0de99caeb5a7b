with source as (
    select * from {{ source('ops', 'charter_promise') }}
),

final as (
    select
        promise_id,
        promise,
        kpi,
        channel,
        target,
        direction
    from source
)

select * from final
