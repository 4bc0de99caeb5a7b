{#
  Voice of the customer: survey responses per week by the theme their comment mentions, the
  touchpoint, the contact's channel and the order's delivery partner, with CSAT, NPS and CES
  (KPIS.md) and the counts to re-aggregate them. A response whose comment mentions two themes
  counts under each; one that mentions none is under theme 'unthemed', its touchpoint what the survey
  was about (the contact or the order). Summing detractors by touchpoint shows which touchpoints
  drive them.

  Incremental: a build recomputes every week holding a response that fct_survey_response rebuilt, whose
  comment int_comment_theme_matches matched again, or whose order fct_order rebuilt (its delivery
  partner may have changed) since the last build.
#}
{{
    config(
        materialized='incremental',
        unique_key='week_start',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['week_start']}, {'columns': ['built_at']}],
    )
}}
-- depends_on: {{ ref('int_comment_theme_matches') }}
{%- if is_incremental() %}
    {%- set days_of_weeks_rebuilt -%}
        select distinct (date_trunc('week', r.response_date)::date + d.day_of_week)::date
        from {{ ref('fct_survey_response') }} as r
        cross join generate_series(0, 6) as d (day_of_week)
        where
            r.response_date is not null
            and (
                r.built_at > {{ high_water('built_at') }}
                or r.response_id in (
                    select m.record_id from {{ ref('int_comment_theme_matches') }} as m
                    where m.comment_source = 'survey' and m.built_at > {{ high_water('built_at') }}
                )
                or r.order_id in (
                    select o.order_id from {{ ref('fct_order') }} as o
                    where o.built_at > {{ high_water('built_at') }}
                )
            )
    {%- endset %}
{%- endif %}
with responses as (
    select * from {{ ref('fct_survey_response') }}
    {% if is_incremental() -%}
        where response_date in ({{ date_literals(days_of_weeks_rebuilt) }})
    {%- endif %}
),

themes as (
    select
        record_id as response_id,
        theme_id,
        touchpoint
    from {{ ref('int_comment_themes') }}
    where comment_source = 'survey'
),

orders as (
    select
        order_id,
        delivery_partner
    from {{ ref('fct_order') }}
),

themed as (
    select
        r.response_id,
        r.survey_type,
        r.score,
        r.is_csat_satisfied,
        r.is_promoter,
        r.is_detractor,
        r.contact_channel,
        o.delivery_partner,
        date_trunc('week', r.response_date)::date as week_start,
        coalesce(t.theme_id, 'unthemed') as theme_id,
        coalesce(
            t.touchpoint,
            case when r.interaction_id is not null then 'contact' when r.order_id is not null then 'order' end
        ) as touchpoint
    from responses as r
    left join themes as t on r.response_id = t.response_id
    left join orders as o on r.order_id = o.order_id
),

weekly as (
    select
        week_start,
        theme_id,
        touchpoint,
        contact_channel,
        delivery_partner,
        count(*) as responses,
        count(*) filter (where survey_type = 'csat') as csat_responses,
        count(*) filter (where is_csat_satisfied) as csat_satisfied,
        count(*) filter (where survey_type = 'csat' and score <= 2) as csat_dissatisfied,
        count(*) filter (where survey_type = 'nps') as nps_responses,
        count(*) filter (where is_promoter) as promoters,
        count(*) filter (where is_detractor) as detractors,
        count(*) filter (where survey_type = 'ces') as ces_responses,
        sum(score) filter (where survey_type = 'ces') as ces_score_total
    from themed
    group by week_start, theme_id, touchpoint, contact_channel, delivery_partner
),

final as (
    select
        *,
        round(100.0 * csat_satisfied / nullif(csat_responses, 0), 2) as csat_pct,
        round(100.0 * (promoters - detractors) / nullif(nps_responses, 0), 2) as nps,
        round(1.0 * ces_score_total / nullif(ces_responses, 0), 2) as ces,
        {{ built_at() }}
    from weekly
)

select * from final
