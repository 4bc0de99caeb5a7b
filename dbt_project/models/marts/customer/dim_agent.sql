with agents as (
    select * from {{ ref('stg_contact_centre__agents') }}
),

final as (
    select
        agent_id,
        agent_name,
        team,
        site,
        cost_per_hour
    from agents
)

select * from final
