{#
  Each theme's mentions per week (survey comments and contact notes, counted by
  int_theme_weekly_mentions) against its trailing baseline, and whether it is emerging.

  The rule: a theme's weekly mentions are taken as Poisson with mean equal to its average over the
  {{ var('emerging_baseline_weeks') }} weeks before (weeks without a mention count as 0). The week is
  flagged when the mentions are at least {{ var('emerging_min_mentions') }} and their z-score,
  (mentions - baseline) / sqrt(max(baseline, 1)), is at least {{ var('emerging_z') }}, with at least two
  weeks of history behind it. Flagged weeks carry up to three example comments, e-mail addresses and
  runs of digits masked.
#}
{%- set baseline_weeks = var('emerging_baseline_weeks') %}
{%- set timezone = var("reporting_timezone") %}
with mentions as (
    select
        theme_id,
        week_start,
        mentions
    from {{ ref('int_theme_weekly_mentions') }}
    where mentions > 0
),

themes as (
    select distinct
        theme_id,
        theme_label,
        owner_function,
        touchpoint
    from {{ ref('stg_ops__theme_keywords') }}
),

weeks as (
    select generate_series(min(week_start), max(week_start), interval '1 week')::date as week_start
    from mentions
),

dense as (
    select
        t.theme_id,
        t.theme_label,
        t.owner_function,
        t.touchpoint,
        w.week_start,
        coalesce(m.mentions, 0) as mentions
    from themes as t
    cross join weeks as w
    left join mentions as m on t.theme_id = m.theme_id and w.week_start = m.week_start
),

with_baseline as (
    select
        *,
        avg(mentions) over (
            partition by theme_id order by week_start
            rows between {{ baseline_weeks }} preceding and 1 preceding
        ) as baseline,
        count(*) over (
            partition by theme_id order by week_start
            rows between {{ baseline_weeks }} preceding and 1 preceding
        ) as weeks_of_history
    from dense
),

scored as (
    select
        *,
        round((mentions - baseline) / sqrt(greatest(baseline, 1)), 2) as z_score
    from with_baseline
),

judged as (
    select
        *,
        coalesce(
            weeks_of_history >= 2
            and mentions >= {{ var('emerging_min_mentions') }}
            and z_score >= {{ var('emerging_z') }},
            false
        ) as is_emerging
    from scored
),

-- Examples only for the emerging weeks, which are all that show them: each emerging week reads its
-- three latest comments through int_comment_theme_matches' (theme_id, commented_at) index, not the
-- comments of every week.
examples as (
    select
        j.theme_id,
        j.week_start,
        string_agg(e.masked, ' | ' order by e.commented_at desc, e.record_id asc) as example_comments
    from judged as j
    cross join
        lateral (
            select
                t.commented_at,
                t.record_id,
                {{ mask_free_text('t.comment_text') }} as masked
            from {{ ref('int_comment_themes') }} as t
            where
                t.theme_id = j.theme_id
                and t.commented_at >= j.week_start::timestamp at time zone '{{ timezone }}'
                and t.commented_at < (j.week_start + 7)::timestamp at time zone '{{ timezone }}'
            order by t.commented_at desc, t.record_id asc
            limit 3
        ) as e
    where j.is_emerging
    group by j.theme_id, j.week_start
),

final as (
    select
        j.week_start,
        j.theme_id,
        j.theme_label,
        j.owner_function,
        j.touchpoint,
        j.mentions,
        round(j.baseline, 2) as baseline,
        j.weeks_of_history,
        j.z_score,
        j.is_emerging,
        e.example_comments,
        {{ built_at() }}
    from judged as j
    left join examples as e on j.theme_id = e.theme_id and j.week_start = e.week_start
)

select * from final
