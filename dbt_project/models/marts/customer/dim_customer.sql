{#
  One row per customer: every CRM account, and every guest identity resolution found outside the
  CRM (segment 'guest', no owner). The golden record as BI tools may see it. E-mail and phone
  appear only masked (for a person to recognise) and as keyed hashes (for joins and counts); the
  plain values are in marts_pii.dim_customer_pii for pii_reader.
#}
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

guest_keys as (
    select * from {{ ref('int_identity_guests') }}
    where customer_id is not null
),

customers as (
    select
        account_id as customer_id,
        segment,
        region,
        owner_id,
        created_at as customer_since,
        false as is_guest
    from accounts
    union all
    select distinct
        customer_id,
        'guest' as segment,
        null as region,
        null as owner_id,
        null::timestamptz as customer_since,
        true as is_guest
    from guest_keys
),

details as (
    select * from {{ ref('int_customer_contact_details') }}
),

final as (
    select
        c.customer_id,
        c.segment,
        c.region,
        c.owner_id,
        c.customer_since,
        c.is_guest,
        {{ mask_email('d.email') }} as email_masked,
        {{ mask_phone('d.phone') }} as phone_masked,
        {{ keyed_hash('d.email') }} as email_hash,
        {{ keyed_hash('d.phone') }} as phone_hash,
        nullif(btrim(left(d.postcode, greatest(length(d.postcode) - 3, 2))), '') as postcode_district
    from customers as c
    left join details as d on c.customer_id = d.customer_id
)

select * from final
