with source as (
    select * from {{ source('ops', 'dq_result') }}
),

final as (
    select
        result_id,
        batch_id,
        entity,
        expectation,
        expectation_type,
        column_name,
        severity,
        success,
        rows_evaluated,
        rows_failed,
        evaluated_at
    from source
)

select * from final
