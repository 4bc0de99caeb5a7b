{{
    config(
        materialized='incremental',
        unique_key='interaction_id',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['interaction_id'], 'unique': True}, {'columns': ['loaded_at']}, {'columns': ['built_at']}],
        on_schema_change='append_new_columns',
    )
}}
{# Incremental: a large daily feed. Each build reads only what was published since the last. #}
with source as (
    {{ latest_by_key(source('contact_centre', 'interaction'), 'interaction_id') }}
),

final as (
    select
        interaction_id,
        channel,
        queue,
        agent_id,
        nullif(btrim(customer_crm_id), '') as customer_crm_id,
        {{ normalize_phone('customer_phone') }} as customer_phone,
        {{ normalize_email('customer_email') }} as customer_email,
        queued_at,
        answered_at,
        ended_at,
        coalesce(talk_seconds, 0) as talk_seconds,
        coalesce(hold_seconds, 0) as hold_seconds,
        coalesce(wrap_seconds, 0) as wrap_seconds,
        coalesce(transferred, false) as is_transferred,
        reason,
        outcome,
        coalesce(is_complaint, false) as is_complaint,
        notes,
        _batch_id as batch_id,
        _record_no as record_no,
        _loaded_at as loaded_at,
        {{ built_at() }}
    from source
)

select * from final
{{ newer_than_existing('final', ['interaction_id']) }}
