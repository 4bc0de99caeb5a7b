{{
    config(
        materialized='incremental',
        unique_key='response_id',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['response_id'], 'unique': True}, {'columns': ['loaded_at']}, {'columns': ['built_at']}],
        on_schema_change='append_new_columns',
    )
}}
{# Incremental: a large daily feed. Each build reads only what was published since the last. #}
with source as (
    {{ latest_by_key(source('survey', 'response'), 'response_id') }}
),

final as (
    select
        response_id,
        survey_type,
        score,
        comment,
        submitted_at,
        interaction_id,
        order_id,
        {{ normalize_email('respondent_email') }} as respondent_email,
        respondent_name,
        _batch_id as batch_id,
        _record_no as record_no,
        _loaded_at as loaded_at,
        {{ built_at() }}
    from source
)

select * from final
{{ newer_than_existing('final', ['response_id']) }}
