{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['customer_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
        post_hook=["{{ delete_departed_customers(ref('stg_crm__contacts'), 'account_id') }}"],
    )
}}
{#
  One row per customer with the personal details its golden record keeps. Survivorship: the CRM
  is the system of record, and of an account's contacts the one with the lowest contact id that
  has a value wins, field by field (a stable choice that does not flip between runs). A guest
  keeps the smallest e-mail and phone among its keys.

  Incremental: the details are computed whole (one pass over the contacts), but a row is written only
  for a customer who is new or whose details changed, so built_at tells dim_customer and
  dim_customer_pii which customers to write again (the CRM export is a full copy each day: nearly every
  contact is published again unchanged). A customer who is no longer one (a guest whose keys now
  belong to an account) is deleted by the post-hook.
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

details as (
    select * from crm_customers
    union all
    select * from guests
),

final as (
    select d.*
    from details as d
    {% if is_incremental() -%}
        left join {{ this }} as t on d.customer_id = t.customer_id
        where
            t.customer_id is null
            or (t.email, t.phone, t.postcode, t.full_name) is distinct from (d.email, d.phone, d.postcode, d.full_name)
    {%- endif %}
)

select
    *,
    {{ built_at() }}
from final
