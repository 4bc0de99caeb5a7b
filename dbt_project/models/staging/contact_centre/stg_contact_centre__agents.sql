with source as (
    {{ latest_by_key(source('contact_centre', 'agent'), 'agent_id') }}
),

final as (
    select
        agent_id,
        agent_name,
        team,
        site,
        cost_per_hour
    from source
)

select * from final
