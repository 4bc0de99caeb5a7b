{{
    config(
        materialized='incremental',
        unique_key=['record_type', 'record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['record_type', 'record_id'], 'unique': True},
            {'columns': ['record_type', 'loaded_at']},
            {'columns': ['built_at']},
            {'columns': ['crm_id']},
            {'columns': ['email']},
            {'columns': ['phone']},
            {'columns': ['answers_interaction_id']},
        ],
    )
}}
{#
  One row per customer-bearing source record (interaction, survey response, order) with every
  customer key it carries (normalised in staging), and for a survey the contact it answers.
  Records without any key are here too: they resolve to no one, visibly.

  Incremental: a build reads only the records each staging model published since the last one (a
  corrected or erased record comes back with a new loaded_at); built_at tells the identity models
  downstream which records to match again, and the key indexes find the records a changed CRM key
  or a rematched interaction concerns.
#}
with interactions as (
    select * from {{ ref('stg_contact_centre__interactions') }}
    {% if is_incremental() -%}
        where loaded_at > {{ high_water('loaded_at', "previous.record_type = 'interaction'") }}
    {%- endif %}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
    {% if is_incremental() -%}
        where loaded_at > {{ high_water('loaded_at', "previous.record_type = 'response'") }}
    {%- endif %}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
    {% if is_incremental() -%}
        where loaded_at > {{ high_water('loaded_at', "previous.record_type = 'order'") }}
    {%- endif %}
),

final as (
    select
        'interaction' as record_type,
        interaction_id as record_id,
        customer_crm_id as crm_id,
        customer_email as email,
        customer_phone as phone,
        null::text as answers_interaction_id,
        loaded_at
    from interactions
    union all
    select
        'response' as record_type,
        response_id as record_id,
        null::text as crm_id,
        respondent_email as email,
        null::text as phone,
        interaction_id as answers_interaction_id,
        loaded_at
    from responses
    union all
    select
        'order' as record_type,
        order_id as record_id,
        customer_crm_id as crm_id,
        customer_email as email,
        null::text as phone,
        null::text as answers_interaction_id,
        loaded_at
    from orders
)

select
    *,
    {{ built_at() }}
from final
