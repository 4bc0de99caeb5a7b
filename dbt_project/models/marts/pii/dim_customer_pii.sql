{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['customer_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
        post_hook=["{{ delete_departed_customers(ref('stg_crm__contacts'), 'account_id') }}"],
    )
}}
{#
  One row per customer with the personal details of the golden record (pii_reader only).
  Incremental like int_customer_contact_details, whose rows it copies: a build writes the customers
  whose details it wrote since, and the post-hook deletes the customers who are no longer one.
#}
with details as (
    select * from {{ ref('int_customer_contact_details') }}
    {% if is_incremental() -%}
        where built_at > {{ high_water('built_at') }}
    {%- endif %}
),

final as (
    select
        customer_id,
        full_name,
        email,
        phone,
        postcode,
        {{ built_at() }}
    from details
)

select * from final
