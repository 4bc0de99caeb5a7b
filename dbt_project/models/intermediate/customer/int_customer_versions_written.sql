{{ config(materialized='view') }}
{#
  The rows of dim_customer its newest build wrote: the customers that are new or changed (all of them
  after a full refresh). The snapshot dim_customer_history compares these alone with their current
  versions; a customer missing here has not changed.
#}
with customers as not materialized (
    select * from {{ ref('dim_customer') }}
),

final as (
    select
        customer_id,
        segment,
        region,
        owner_id,
        customer_since,
        is_guest,
        email_masked,
        phone_masked,
        email_hash,
        phone_hash,
        postcode_district
    from customers
    where built_at = (select max(newest.built_at) from customers as newest)
)

select * from final
