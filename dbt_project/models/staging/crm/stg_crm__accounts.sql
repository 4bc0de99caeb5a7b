{{
    config(
        materialized='incremental',
        unique_key='account_id',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['account_id'], 'unique': True}, {'columns': ['loaded_at']}, {'columns': ['built_at']}],
        on_schema_change='append_new_columns',
    )
}}
{#- Incremental: each build reads only the accounts published since the last (a CRM exported whole again
    publishes each once), instead of every reader deduplicating the whole raw history again. -#}
with source as (
    {{ latest_by_key(source('crm', 'account'), 'account_id') }}
),

final as (
    select
        account_id,
        account_name,
        segment,
        region,
        owner_id,
        created_at,
        _batch_id as batch_id,
        _record_no as record_no,
        _loaded_at as loaded_at,
        {{ built_at() }}
    from source
)

select * from final
{{ newer_than_existing('final', ['account_id']) }}
