{#
  One row per customer (CRM account): the golden record as BI tools may see it. E-mail and phone
  appear only masked (for a person to recognise) and as keyed hashes (for joins and counts); the
  plain values are in marts_pii.dim_customer_pii for pii_reader.
#}
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

details as (
    select * from {{ ref('int_customer_contact_details') }}
),

final as (
    select
        a.account_id as customer_id,
        a.segment,
        a.region,
        a.owner_id,
        a.created_at as customer_since,
        {{ mask_email('d.email') }} as email_masked,
        {{ mask_phone('d.phone') }} as phone_masked,
        {{ keyed_hash('d.email') }} as email_hash,
        {{ keyed_hash('d.phone') }} as phone_hash,
        nullif(btrim(left(d.postcode, greatest(length(d.postcode) - 3, 2))), '') as postcode_district
    from accounts as a
    left join details as d on a.account_id = d.customer_id
)

select * from final
