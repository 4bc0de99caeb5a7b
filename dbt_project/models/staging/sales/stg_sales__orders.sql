{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['order_id'], 'unique': True}, {'columns': ['loaded_at']}, {'columns': ['built_at']}],
        on_schema_change='append_new_columns',
    )
}}
{# Incremental: a large daily feed. Each build reads only what was published since the last. #}
with source as (
    {{ latest_by_key(source('sales', 'order'), 'order_id') }}
),

final as (
    select
        order_id,
        nullif(btrim(customer_crm_id), '') as customer_crm_id,
        {{ normalize_email('customer_email') }} as customer_email,
        ordered_at,
        status,
        order_total,
        currency,
        delivery_partner,
        promised_date,
        delivered_date,
        _batch_id as batch_id,
        _record_no as record_no,
        _loaded_at as loaded_at,
        {{ built_at() }}
    from source
)

select * from final
{{ newer_than_existing('final', ['order_id']) }}
