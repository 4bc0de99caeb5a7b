{# One row per customer key a source record carries (normalised in staging), and the records themselves. #}
with interactions as (
    select * from {{ ref('stg_contact_centre__interactions') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

keys_seen as (
    select
        'interaction' as record_type,
        interaction_id as record_id,
        'crm_id' as key_type,
        customer_crm_id as key_value
    from interactions
    union all
    select
        'interaction' as record_type,
        interaction_id as record_id,
        'email' as key_type,
        customer_email as key_value
    from interactions
    union all
    select
        'interaction' as record_type,
        interaction_id as record_id,
        'phone' as key_type,
        customer_phone as key_value
    from interactions
    union all
    select
        'response' as record_type,
        response_id as record_id,
        'email' as key_type,
        respondent_email as key_value
    from responses
    union all
    select
        'order' as record_type,
        order_id as record_id,
        'crm_id' as key_type,
        customer_crm_id as key_value
    from orders
    union all
    select
        'order' as record_type,
        order_id as record_id,
        'email' as key_type,
        customer_email as key_value
    from orders
),

final as (
    select * from keys_seen
    where key_value is not null
)

select * from final
