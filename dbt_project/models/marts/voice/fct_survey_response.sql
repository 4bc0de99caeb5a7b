{#
  One row per survey response with its customer and its KPIS.md classification. The comment is
  free text that may name people; it stays out of marts until the voice-of-customer models mask it.

  Incremental: a build rebuilds the responses published since the last one, those whose customer the
  identity models now resolve differently, and those answering a contact staged since the last build.
  The contact's channel, queue and agent are read from staging, where fct_contact takes them unchanged
  (one fct_contact row per staged interaction): this model need not wait for fct_contact, whose
  repeat-window rebuild is the longest step before the customer models.
#}
{#- The response_date index finds the newest day (customer_360's as-of date) and the days survey_daily
    rebuilds without reading the whole table; the customer index the responses of the customers
    int_owner_daily_counts recounts for an owner whose scope changed, and with the survey type, time and
    score int_customer_lifetime ranks, from the index alone (macros/visibility.sql). #}
{{
    config(
        materialized='incremental',
        unique_key='response_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['response_id'], 'unique': True},
            {'columns': ['interaction_id']},
            {'columns': ['loaded_at']},
            {'columns': ['built_at']},
            {'columns': ['response_date']},
            {'columns': ['customer_id', 'survey_type', 'submitted_at', 'score']},
        ],
        meta={'vacuum_after_build': true},
    )
}}
with responses as not materialized (
    select * from {{ ref('stg_survey__responses') }}
),

resolved as not materialized (
    select
        record_id as response_id,
        customer_id,
        built_at
    from {{ ref('int_customer_records_resolved') }}
    where record_type = 'response'
),

contacts as not materialized (
    select
        interaction_id,
        channel,
        queue,
        agent_id,
        built_at
    from {{ ref('stg_contact_centre__interactions') }}
),
{% if is_incremental() %}
    to_build as (
        select response_id from responses
        where loaded_at > {{ high_water('loaded_at') }}
        union
        {{ resolved_differently('resolved', 'response_id') }}
        union
        select t.response_id
        from {{ this }} as t
        inner join contacts as c on t.interaction_id = c.interaction_id
        where c.built_at > {{ high_water('built_at') }}
    ),
{% endif %}

final as (
    select
        s.response_id,
        r.customer_id,
        s.survey_type,
        s.score,
        s.submitted_at,
        (s.submitted_at at time zone '{{ var("reporting_timezone") }}')::date as response_date,
        s.interaction_id,
        s.order_id,
        c.channel as contact_channel,
        c.queue as contact_queue,
        c.agent_id as contact_agent_id,
        s.survey_type = 'csat' and s.score >= 4 as is_csat_satisfied,
        s.survey_type = 'nps' and s.score >= 9 as is_promoter,
        s.survey_type = 'nps' and s.score between 7 and 8 as is_passive,
        s.survey_type = 'nps' and s.score <= 6 as is_detractor,
        -- Detractor in the wider sense the follow-up rules use: NPS 0-6 or CSAT 1-2.
        (s.survey_type = 'nps' and s.score <= 6) or (s.survey_type = 'csat' and s.score <= 2) as needs_follow_up,
        s.loaded_at,
        {{ built_at() }}
    from responses as s
    left join resolved as r on s.response_id = r.response_id
    left join contacts as c on s.interaction_id = c.interaction_id
    {% if is_incremental() %}
        where s.response_id in (select b.response_id from to_build as b)
    {% endif %}
)

-- Written in day order: survey_daily and int_owner_daily_counts read a day's responses through the
-- response_date index, as fct_contact's readers do its contacts.
select * from final
order by response_date
