-- Closing the loop, per owner, kind of action and week the signal arose: how many actions were raised,
-- how many are closed, how many in the charter's time, and how long closing took. A view over
-- insight_action, so closures count at once.
{{ config(materialized='view') }}

with actions as (
    select * from {{ ref('insight_action') }}
),

final as (
    select
        date_trunc('week', signal_at at time zone '{{ var("reporting_timezone") }}')::date as week_start,
        owner_id,
        action_type,
        count(*) as actions_raised,
        count(*) filter (where status = 'closed') as actions_closed,
        count(*) filter (where is_closed_in_time) as actions_closed_in_time,
        count(*) filter (where status = 'open') as actions_open,
        count(*) filter (where is_overdue) as actions_overdue,
        round(100.0 * count(*) filter (where status = 'closed') / count(*), 2) as loop_closure_rate_pct,
        round(100.0 * count(*) filter (where is_closed_in_time) / count(*), 2) as closed_in_time_pct,
        round(avg(days_to_close), 2) as mean_days_to_close,
        round((percentile_cont(0.5) within group (order by days_to_close))::numeric, 2) as median_days_to_close
    from actions
    group by 1, 2, 3
)

select * from final
