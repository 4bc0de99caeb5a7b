{{
    config(
        materialized='incremental',
        unique_key='week_start',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['week_start']}, {'columns': ['built_at']}],
    )
}}
{#
  How often each theme of the taxonomy was mentioned in each week (survey comments and contact notes,
  weeks starting on Monday in var reporting_timezone): what emerging_themes judges, so that a day's
  build does not count every comment of the history again. One row per theme and week that holds a
  comment, 0 when the theme has none in it.

  Incremental by week: a build counts again every week holding a record int_comment_theme_matches
  wrote since this model's last build. That model rewrites a record whole when its comment changed,
  with a row even when no theme is left (theme_id null), and a record keeps its time, so the week
  that counted an old version is among them; each of those weeks gets a row for every theme, so a
  theme whose mentions all went is counted 0. A new taxonomy rewrites every record there, and so
  every week here.

  The weeks' comments are found by int_comment_theme_matches' (theme_id, commented_at) index, a range
  of each week per theme, instead of a scan of all of them (2.6 million rows on the hub benchmark).
#}
{%- set timezone = var("reporting_timezone") %}
{%- if is_incremental() %}
    {%- set weeks_written -%}
        select distinct date_trunc('week', written.commented_at at time zone '{{ timezone }}')::date
        from {{ ref('int_comment_theme_matches') }} as written
        where written.built_at > {{ high_water('built_at') }} and written.commented_at is not null
    {%- endset %}
{%- endif %}
with themes as (
    select distinct theme_id from {{ ref('stg_ops__theme_keywords') }}
),

matches as (
    select * from {{ ref('int_comment_theme_matches') }}
    where commented_at is not null
),

{% if is_incremental() %}
    weeks as (
        select week_start
        from {{ date_values(weeks_written) }} as listed (week_start)
        where week_start is not null
    ),

    mentions as (
        select
            m.theme_id,
            w.week_start,
            count(*) as mentions
        from weeks as w
        inner join matches as m
            on
                m.theme_id = any(array(select t.theme_id from themes as t))
                and m.commented_at >= w.week_start::timestamp at time zone '{{ timezone }}'
                and m.commented_at < (w.week_start + 7)::timestamp at time zone '{{ timezone }}'
        group by m.theme_id, w.week_start
    ),
{% else %}
    weeks as (
        select distinct date_trunc('week', commented_at at time zone '{{ timezone }}')::date as week_start
        from matches
    ),

    mentions as (
        select
            theme_id,
            date_trunc('week', commented_at at time zone '{{ timezone }}')::date as week_start,
            count(*) as mentions
        from matches
        where theme_id is not null
        group by theme_id, week_start
    ),
{% endif %}

final as (
    select
        t.theme_id,
        w.week_start,
        coalesce(m.mentions, 0) as mentions,
        {{ built_at() }}
    from themes as t
    cross join weeks as w
    left join mentions as m on t.theme_id = m.theme_id and w.week_start = m.week_start
)

select * from final
