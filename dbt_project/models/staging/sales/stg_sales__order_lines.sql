{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_number'],
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['order_id', 'line_number'], 'unique': True}, {'columns': ['loaded_at']}, {'columns': ['built_at']}],
        on_schema_change='append_new_columns',
    )
}}
{# Incremental: a large daily feed. Each build reads only what was published since the last. #}
with source as (
    {{ latest_by_key(source('sales', 'order_line'), 'order_id, line_number') }}
),

final as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,
        _batch_id as batch_id,
        _record_no as record_no,
        _loaded_at as loaded_at,
        {{ built_at() }}
    from source
)

select * from final
{{ newer_than_existing('final', ['order_id', 'line_number']) }}
