-- Every signal an insight action is raised for, under the rules in ops.action_rule (INSIGHT_HUB_ACTIONS):
-- one row per signal with a stable key, its evidence, owner and due date, and whether it is still
-- active. The action sync (plugins/insight_hub/insight/actions.py) raises an action for each new active
-- key and closes the open actions whose signal is no longer active. A rule left out raises nothing.
-- A view: the single-event signals, nearly all the rows, are int_event_signals' table; the signals
-- drawn from the charter, the themes and the customers' health history are few and computed here.
{{ config(materialized='view') }}

with rules as (
    select * from {{ ref('stg_ops__action_rules') }}
),

as_of as (
    select max(as_of_date) as as_of_date from {{ ref('customer_360') }}
),

-- Weeks a promise was broken, complete weeks only, grouped into runs of consecutive weeks: one action
-- per run, active while the run reaches the latest complete week.
broken_weeks as (
    select
        c.promise_id,
        c.promise,
        c.period_start,
        c.measured_value,
        c.target,
        c.period_start - 7 * (dense_rank() over (partition by c.promise_id order by c.period_start))::integer
            as run_anchor
    from {{ ref('charter_compliance') }} as c
    cross join as_of as a
    where
        c.period_type = 'week'
        and c.period_start + 6 <= a.as_of_date
        and c.measured_on > 0
        and not c.is_kept
),

latest_complete_week as (
    select max(c.period_start) as period_start
    from {{ ref('charter_compliance') }} as c
    cross join as_of as a
    where c.period_type = 'week' and c.period_start + 6 <= a.as_of_date
),

latest_theme_week as (
    select max(week_start) as week_start
    from {{ ref('emerging_themes') }}
),

broken_runs as (
    select
        promise_id,
        min(period_start) as first_week,
        max(period_start) as last_week,
        count(*) as weeks
    from broken_weeks
    group by promise_id, run_anchor
),

charter_broken as (
    select
        'charter_broken:' || r.promise_id || ':' || r.first_week as action_key,
        'charter_broken' as action_type,
        null::text as customer_id,
        null::text as theme_id,
        r.promise_id,
        w.promise || ': ' || round(w.measured_value, 2) || ' against ' || round(w.target, 2)
        || ' in the week of ' || r.last_week
        || case when r.weeks > 1 then ', broken ' || r.weeks || ' weeks running' else '' end as evidence,
        (r.first_week + 7)::timestamp at time zone '{{ var("reporting_timezone") }}' as signal_at,
        r.last_week = l.period_start as is_active,
        'the promise was kept in a later week' as cleared_because
    from broken_runs as r
    inner join broken_weeks as w on r.promise_id = w.promise_id and r.last_week = w.period_start
    cross join latest_complete_week as l
),

-- Flagged weeks of a theme, grouped into runs of consecutive weeks: one action per run, active while
-- the run reaches the latest week.
flagged_weeks as (
    select
        theme_id,
        week_start,
        mentions,
        baseline,
        z_score,
        week_start - 7 * (dense_rank() over (partition by theme_id order by week_start))::integer as run_anchor
    from {{ ref('emerging_themes') }}
    where is_emerging
),

flagged_runs as (
    select
        theme_id,
        min(week_start) as first_week,
        max(week_start) as last_week
    from flagged_weeks
    group by theme_id, run_anchor
),

emerging as (
    select
        'emerging_theme:' || r.theme_id || ':' || r.first_week as action_key,
        'emerging_theme' as action_type,
        null::text as customer_id,
        r.theme_id,
        null::text as promise_id,
        r.theme_id || ': ' || w.mentions || ' mentions in the week of ' || r.last_week
        || ' against a baseline of ' || w.baseline || ' (z = ' || w.z_score || ')' as evidence,
        r.first_week::timestamp at time zone '{{ var("reporting_timezone") }}' as signal_at,
        r.last_week = l.week_start as is_active,
        'the theme is no longer flagged' as cleared_because
    from flagged_runs as r
    inner join flagged_weeks as w on r.theme_id = w.theme_id and r.last_week = w.week_start
    cross join latest_theme_week as l
),

-- A high-value customer whose churn-risk band worsened (low -> medium -> high) between two versions of
-- customer_health_history; active while that band is still the current one.
health_versions as (
    select
        customer_id,
        churn_risk_band,
        health_score,
        value_to_date,
        dbt_valid_from,
        dbt_valid_to,
        lag(churn_risk_band) over (partition by customer_id order by dbt_valid_from) as previous_band
    from {{ ref('customer_health_history') }}
),

health_drops as (
    select
        'health_drop:' || h.customer_id || ':' || to_char(h.dbt_valid_from, 'YYYY-MM-DD"T"HH24:MI:SS') as action_key,
        'health_drop' as action_type,
        h.customer_id,
        null::text as theme_id,
        null::text as promise_id,
        'churn risk ' || h.previous_band || ' -> ' || h.churn_risk_band || ' (health ' || h.health_score
        || ', value to date ' || round(h.value_to_date, 2) || ')' as evidence,
        h.dbt_valid_from::timestamptz as signal_at,
        h.dbt_valid_to is null as is_active,
        'the churn-risk band changed again' as cleared_because
    from health_versions as h
    inner join rules as r on r.action_type = 'health_drop'
    where
        array_position(array['low', 'medium', 'high'], h.churn_risk_band)
        > array_position(array['low', 'medium', 'high'], h.previous_band)
        and h.value_to_date >= r.min_value_to_date
),

signals as (
    select * from charter_broken
    union all
    select * from emerging
    union all
    select * from health_drops
)

select
    action_key,
    action_type,
    customer_id,
    theme_id,
    promise_id,
    evidence,
    owner_id,
    signal_at,
    due_at,
    is_active,
    cleared_because
from {{ ref('int_event_signals') }}
union all
{{ signals_with_owners('signals') }}
