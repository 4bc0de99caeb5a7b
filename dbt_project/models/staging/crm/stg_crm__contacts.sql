{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['contact_id'], 'unique': True}, {'columns': ['loaded_at']}, {'columns': ['built_at']}],
        on_schema_change='append_new_columns',
    )
}}
{#- Incremental, as stg_crm__accounts: the e-mails and phones are normalised once per published contact,
    not on every read. -#}
with source as (
    {{ latest_by_key(source('crm', 'contact'), 'contact_id') }}
),

final as (
    select
        contact_id,
        account_id,
        first_name,
        last_name,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        upper(btrim(postcode)) as postcode,
        coalesce(marketing_consent, false) as has_marketing_consent,
        _batch_id as batch_id,
        _record_no as record_no,
        _loaded_at as loaded_at,
        {{ built_at() }}
    from source
)

select * from final
{{ newer_than_existing('final', ['contact_id']) }}
