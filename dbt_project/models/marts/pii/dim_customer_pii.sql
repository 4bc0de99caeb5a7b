{# One row per customer with the personal details of the golden record (pii_reader only). #}
with details as (
    select * from {{ ref('int_customer_contact_details') }}
),

final as (
    select
        customer_id,
        full_name,
        email,
        phone,
        postcode
    from details
)

select * from final
