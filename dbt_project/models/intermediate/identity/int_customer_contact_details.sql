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

-- One pass over the contacts in (account_id, contact_id) order: each field's first value among the
-- contacts that have one. The aggregates share that order, so PostgreSQL sorts the contacts once.
crm_customers as (
    select
        account_id as customer_id,
        (array_agg(email order by contact_id) filter (where email is not null))[1] as email,
        (array_agg(phone order by contact_id) filter (where phone is not null))[1] as phone,
        (array_agg(postcode order by contact_id) filter (where postcode is not null))[1] as postcode,
        (
            array_agg(nullif(concat_ws(' ', first_name, last_name), '') order by contact_id)
            filter (where first_name is not null or last_name is not null)
        )[1] as full_name
    from contacts
    group by account_id
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
