{#
  One row per customer-bearing source record (interaction, survey response, order) with every
  customer key it carries (normalised in staging), and for a survey the contact it answers.
  Records without any key are here too: they resolve to no one, visibly.
#}
with interactions as (
    select * from {{ ref('stg_contact_centre__interactions') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

final as (
    select
        'interaction' as record_type,
        interaction_id as record_id,
        customer_crm_id as crm_id,
        customer_email as email,
        customer_phone as phone,
        null::text as answers_interaction_id
    from interactions
    union all
    select
        'response' as record_type,
        response_id as record_id,
        null::text as crm_id,
        respondent_email as email,
        null::text as phone,
        interaction_id as answers_interaction_id
    from responses
    union all
    select
        'order' as record_type,
        order_id as record_id,
        customer_crm_id as crm_id,
        customer_email as email,
        null::text as phone,
        null::text as answers_interaction_id
    from orders
)

select * from final
