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
        respondent_name
    from source
)

select * from final
