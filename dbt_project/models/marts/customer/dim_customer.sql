{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['customer_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
        post_hook=["{{ delete_departed_customers(ref('stg_crm__accounts'), 'account_id') }}"],
    )
}}
{#
  One row per customer: every CRM account, and every guest identity resolution found outside the
  CRM (segment 'guest', no owner). The golden record as BI tools may see it. E-mail and phone
  appear only masked (for a person to recognise) and as keyed hashes (for joins and counts); the
  plain values are in marts_pii.dim_customer_pii for pii_reader.

  Incremental: a build writes again only the customers who are new, whose account's segment, region,
  owner or creation changed, whose details int_customer_contact_details wrote since (built_at), or all
  of them when the hash key was set since (ops.pii_key.set_at). The post-hook deletes the customers who
  are no longer one. The snapshot dim_customer_history reads the rows a build wrote.
#}
{%- set since = high_water('built_at') if is_incremental() else none %}
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

details as not materialized (
    select * from {{ ref('int_customer_contact_details') }}
),

changed as (
    select c.*
    from customers as c
    {% if is_incremental() -%}
        left join {{ this }} as t on c.customer_id = t.customer_id
        where
            t.customer_id is null
            or (t.segment, t.region, t.owner_id, t.customer_since, t.is_guest)
            is distinct from (c.segment, c.region, c.owner_id, c.customer_since, c.is_guest)
            or c.customer_id in (
                select d.customer_id from details as d
                where d.built_at > {{ since }}
            )
            or exists (
                select 1 from ops.pii_key as k
                where k.set_at > {{ since }}
            )
    {%- endif %}
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
        nullif(btrim(left(d.postcode, greatest(length(d.postcode) - 3, 2))), '') as postcode_district,
        {{ built_at() }}
    from changed as c
    left join details as d on c.customer_id = d.customer_id
)

select * from final
