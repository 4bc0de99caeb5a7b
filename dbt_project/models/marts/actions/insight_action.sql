-- A view, so an action an owner closes shows as closed at once, without waiting for a build.
{{ config(materialized='view') }}

with actions as (
    select * from {{ source('ops', 'insight_action') }}
),

owners as (
    select
        owner_id,
        owner_name
    from {{ ref('dim_owner') }}
),

final as (
    select
        a.action_id,
        a.action_type,
        a.customer_id,
        a.theme_id,
        a.promise_id,
        a.evidence,
        a.owner_id,
        o.owner_name,
        a.signal_at,
        a.created_at,
        a.due_at,
        a.status,
        a.status = 'open' and a.due_at < now() as is_overdue,
        a.closed_at,
        a.closed_by,
        {{ mask_free_text('a.close_note') }} as close_note,
        round(extract(epoch from a.closed_at - a.created_at) / 86400.0, 2) as days_to_close,
        a.closed_at <= a.due_at as is_closed_in_time
    from actions as a
    left join owners as o on a.owner_id = o.owner_id
)

select * from final
