with source as (
    select * from {{ source('ops', 'load_batch') }}
),

final as (
    select
        batch_id,
        source as source_system,
        entity,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined,
        started_at,
        finished_at
    from source
)

select * from final
