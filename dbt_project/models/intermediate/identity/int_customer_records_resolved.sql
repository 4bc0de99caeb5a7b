{{
    config(
        materialized='incremental',
        unique_key=['record_type', 'record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['record_type', 'record_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
    )
}}
{#
  Every customer-bearing source record resolved to one customer_id, with the rule that decided:
  a CRM account by int_identity_crm_matches' precedence (crm_id > interaction_link > email > phone),
  else a guest by int_identity_guests (guest_email, guest_phone; ids stable across runs), else 'unmatched'.

  Incremental: a build resolves again the records whose CRM match changed (new records among them)
  and the records carrying a key whose guest changed (int_identity_guests' built_at: a new guest key,
  a merge or split, a key no longer a guest's), found by the records' e-mail and phone indexes, and
  writes a row only when its resolution changed; the incremental facts rebuild those (built_at).
  previous_customer_id is the customer a rewritten record had before this build (null for a record
  new to the hub, and after a full refresh): int_customer_lifetime recomputes the customer it left.
#}
with records as not materialized (
    select * from {{ ref('int_identity_records') }}
),

crm_matches as not materialized (
    select * from {{ ref('int_identity_crm_matches') }}
),

guest_keys as not materialized (
    select * from {{ ref('int_identity_guests') }}
    where customer_id is not null
),

{% if is_incremental() %}
    previous as not materialized (
        select * from {{ this }}
    ),

    changed_guest_keys as (
        select
            key_type,
            key_value
        from {{ ref('int_identity_guests') }}
        where built_at > {{ high_water('built_at') }}
    ),

    affected as (
        select
            record_type,
            record_id
        from crm_matches
        where built_at > {{ high_water('built_at') }}
        union
        select
            r.record_type,
            r.record_id
        from changed_guest_keys as k
        inner join records as r on k.key_type = 'email' and k.key_value = r.email
        union
        select
            r.record_type,
            r.record_id
        from changed_guest_keys as k
        inner join records as r on k.key_type = 'phone' and k.key_value = r.phone
    ),

    affected_records as (
        select r.*
        from records as r
        inner join affected as a on r.record_type = a.record_type and r.record_id = a.record_id
    ),
{% else %}
    affected_records as (
        select * from records
    ),
{% endif %}

-- A guest key sorts e-mail before phone: a record carrying both resolves by its e-mail.
guest_matches as (
    select distinct on (r.record_type, r.record_id)
        r.record_type,
        r.record_id,
        g.customer_id,
        'guest_' || k.key_type as match_rule
    from affected_records as r
    cross join lateral (values ('email', r.email), ('phone', r.phone)) as k (key_type, key_value)
    inner join guest_keys as g on k.key_type = g.key_type and k.key_value = g.key_value
    order by r.record_type asc, r.record_id asc, k.key_type asc
),

final as (
    select
        r.record_type,
        r.record_id,
        coalesce(c.customer_id, g.customer_id) as customer_id,
        coalesce(c.match_rule, g.match_rule, 'unmatched') as match_rule,
        {{ built_at() }}
    from affected_records as r
    left join crm_matches as c
        on r.record_type = c.record_type and r.record_id = c.record_id and c.customer_id is not null
    left join guest_matches as g on r.record_type = g.record_type and r.record_id = g.record_id
)

{% if is_incremental() %}
    select
        f.*,
        p.customer_id as previous_customer_id
    from final as f
    left join previous as p on f.record_type = p.record_type and f.record_id = p.record_id
    where
        p.record_id is null
        or p.customer_id is distinct from f.customer_id
        or p.match_rule <> f.match_rule
{% else %}
    select
        *,
        null::text as previous_customer_id
    from final
{% endif %}
