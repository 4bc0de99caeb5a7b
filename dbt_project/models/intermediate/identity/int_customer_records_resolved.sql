{#
  Every customer-bearing source record resolved to one customer_id, with the rule that decided:
  a CRM account by int_identity_crm_matches' precedence (crm_id > interaction_link > email > phone),
  else a guest by int_identity_guests (guest_email, guest_phone; ids stable across runs), else 'unmatched'.
#}
with records as (
    select * from {{ ref('int_identity_records') }}
),

keys_seen as (
    select * from {{ ref('int_identity_keys_seen') }}
),

crm_matches as (
    select * from {{ ref('int_identity_crm_matches') }}
),

guest_keys as (
    select * from {{ ref('int_identity_guests') }}
),

guest_matches as (
    select distinct on (s.record_type, s.record_id)
        s.record_type,
        s.record_id,
        g.customer_id,
        'guest_' || s.key_type as match_rule
    from keys_seen as s
    inner join guest_keys as g on s.key_type = g.key_type and s.key_value = g.key_value
    order by s.record_type asc, s.record_id asc, s.key_type asc
),

final as (
    select
        r.record_type,
        r.record_id,
        coalesce(c.customer_id, g.customer_id) as customer_id,
        coalesce(c.match_rule, g.match_rule, 'unmatched') as match_rule
    from records as r
    left join crm_matches as c on r.record_type = c.record_type and r.record_id = c.record_id
    left join guest_matches as g on r.record_type = g.record_type and r.record_id = g.record_id
)

select * from final
