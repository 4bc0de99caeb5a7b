{# Incremental: a build copies the lines published since the last one. #}
{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'line_number'],
        incremental_strategy='delete+insert',
        indexes=[{'columns': ['order_id', 'line_number'], 'unique': True}, {'columns': ['loaded_at']}],
    )
}}
with lines as (
    select * from {{ ref('stg_sales__order_lines') }}
),

final as (
    select
        order_id,
        line_number,
        product_id,
        quantity,
        unit_price,
        line_amount,
        loaded_at
    from lines
    {% if is_incremental() %}
        where loaded_at > {{ high_water('loaded_at') }}
    {% endif %}
)

select * from final
