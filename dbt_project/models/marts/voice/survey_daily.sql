{#
  One row per day, survey type and contact channel (null when the response is not linked to a
  contact): CSAT, NPS and CES as KPIS.md defines them, with their counts.
#}
{{
    config(
        materialized='incremental',
        unique_key='response_date',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['response_date']}],
    )
}}
with responses as (
    select * from {{ ref('fct_survey_response') }}
    {% if is_incremental() %}
        where response_date in ({{ days_rebuilt(ref('fct_survey_response'), 'response_date') }})
    {% endif %}
),

daily as (
    select
        response_date,
        survey_type,
        contact_channel,
        count(*) as responses,
        count(*) filter (where is_csat_satisfied) as csat_satisfied,
        count(*) filter (where is_promoter) as promoters,
        count(*) filter (where is_passive) as passives,
        count(*) filter (where is_detractor) as detractors,
        sum(score) filter (where survey_type = 'ces') as ces_score_total
    from responses
    group by response_date, survey_type, contact_channel
),

final as (
    select
        *,
        case when survey_type = 'csat' then round(100.0 * csat_satisfied / responses, 2) end as csat_pct,
        case when survey_type = 'nps' then round(100.0 * (promoters - detractors) / responses, 2) end as nps,
        case when survey_type = 'ces' then round(1.0 * ces_score_total / responses, 2) end as ces,
        {{ built_at() }}
    from daily
)

select * from final
