{#
  One row per customer with the personal details its golden record keeps. Survivorship: the CRM
  is the system of record, and of an account's contacts the one with the lowest contact id that
  has a value wins, field by field (a stable choice that does not flip between runs). A guest
  keeps the smallest e-mail and phone among its keys.
#}
with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

guest_keys as (
    select * from {{ ref('int_identity_guests') }}
    where customer_id is not null
),

ranked as (
    select
        account_id,
        first_value(email) over (
            partition by account_id order by email is null, contact_id
        ) as email,
        first_value(phone) over (
            partition by account_id order by phone is null, contact_id
        ) as phone,
        first_value(postcode) over (
            partition by account_id order by postcode is null, contact_id
        ) as postcode,
        first_value(nullif(concat_ws(' ', first_name, last_name), '')) over (
            partition by account_id order by first_name is null and last_name is null, contact_id
        ) as full_name
    from contacts
),

crm_customers as (
    select distinct
        account_id as customer_id,
        email,
        phone,
        postcode,
        full_name
    from ranked
),

guests as (
    select
        customer_id,
        min(key_value) filter (where key_type = 'email') as email,
        min(key_value) filter (where key_type = 'phone') as phone,
        null::text as postcode,
        null::text as full_name
    from guest_keys
    group by customer_id
),

final as (
    select * from crm_customers
    union all
    select * from guests
)

select * from final
