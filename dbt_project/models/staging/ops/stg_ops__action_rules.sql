with source as (
    select * from {{ source('ops', 'action_rule') }}
),

final as (
    select
        action_type,
        owner_rule,
        due_within_days,
        (params ->> 'within_days')::integer as within_days,
        (params ->> 'min_value_to_date')::numeric as min_value_to_date,
        coalesce(params -> 'owner_by_promise', '{}'::jsonb) as owner_by_promise
    from source
)

select * from final
