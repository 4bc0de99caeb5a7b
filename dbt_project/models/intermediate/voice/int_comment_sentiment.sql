{{
    config(
        materialized='incremental',
        unique_key=['comment_source', 'record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['comment_source', 'record_id']},
            {'columns': ['comment_source', 'loaded_at']},
            {'columns': ['built_at']},
        ],
        post_hook=["delete from {{ this }} where built_at = current_timestamp and not has_comment"],
    )
}}
{#
  The sentiment of every survey comment and contact note. The lexicon's: VADER's compound score
  (ops.text_sentiment, by the text's SHA-256), positive from 0.05, negative from -0.05, neutral
  between (VADER's own thresholds). The respondent's: their score's band, CSAT 4-5 / 3 / 1-2, NPS
  9-10 / 7-8 / 0-6 (KPIS.md), CES 6-7 / 4-5 / 1-3 (7 = very easy). `sentiment` is the respondent's
  where the response has a score, the lexicon's otherwise.

  Incremental: a build judges the records each staging model published since the last one. Every such
  record is selected, with or without a comment, so delete+insert replaces a corrected or erased
  record's old row; the post-hook then drops the rows of records that have no comment (a
  full refresh does not write them). Only this build can have written such rows, so the post-hook
  looks among this build's rows alone (built_at, the build's transaction time, by its index). Each
  text is scored before the transform, so a record's lexicon score is known when it is first judged.
#}
with lexicon as (
    select * from {{ ref('stg_ops__text_sentiments') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
    {% if is_incremental() -%}
        where loaded_at > {{ high_water('loaded_at', "previous.comment_source = 'survey'") }}
    {%- endif %}
),

interactions as (
    select * from {{ ref('stg_contact_centre__interactions') }}
    {% if is_incremental() -%}
        where loaded_at > {{ high_water('loaded_at', "previous.comment_source = 'contact'") }}
    {%- endif %}
),

comments as (
    select
        'survey' as comment_source,
        response_id as record_id,
        survey_type,
        score,
        case
            when comment <> '' then encode(sha256(convert_to(comment, 'UTF8')), 'hex')
        end as text_hash,
        loaded_at
    from responses
    union all
    select
        'contact' as comment_source,
        interaction_id as record_id,
        null as survey_type,
        null as score,
        case
            when notes <> '' then encode(sha256(convert_to(notes, 'UTF8')), 'hex')
        end as text_hash,
        loaded_at
    from interactions
),

judged as (
    select
        c.comment_source,
        c.record_id,
        c.text_hash,
        c.loaded_at,
        l.compound as lexicon_compound,
        case
            when l.compound >= 0.05 then 'positive'
            when l.compound <= -0.05 then 'negative'
            when l.compound is not null then 'neutral'
        end as lexicon_sentiment,
        case
            when c.survey_type = 'csat' and c.score >= 4 then 'positive'
            when c.survey_type = 'csat' and c.score <= 2 then 'negative'
            when c.survey_type = 'nps' and c.score >= 9 then 'positive'
            when c.survey_type = 'nps' and c.score <= 6 then 'negative'
            when c.survey_type = 'ces' and c.score >= 6 then 'positive'
            when c.survey_type = 'ces' and c.score <= 3 then 'negative'
            when c.score is not null then 'neutral'
        end as score_sentiment
    from comments as c
    left join lexicon as l on c.text_hash = l.text_hash
),

final as (
    select
        comment_source,
        record_id,
        lexicon_compound,
        lexicon_sentiment,
        score_sentiment,
        coalesce(score_sentiment, lexicon_sentiment) as sentiment,
        text_hash is not null as has_comment,
        loaded_at,
        {{ built_at() }}
    from judged
    {%- if not is_incremental() %}
        where text_hash is not null
    {%- endif %}
)

select * from final
