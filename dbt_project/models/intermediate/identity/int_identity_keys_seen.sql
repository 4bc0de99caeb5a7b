{{ config(materialized='view') }}
{#
  One row per customer key (CRM id, normalised e-mail, E.164 phone) a source record carries, with the
  precedence a CRM match by that key has (crm_id 1 > interaction_link 2 > email 3 > phone 4).
  A view: it is int_identity_records turned on its side, and a table of it would be rewritten whole.
#}
with records as (
    select * from {{ ref('int_identity_records') }}
),

final as (
    select
        r.record_type,
        r.record_id,
        k.key_type,
        k.key_value,
        k.precedence,
        r.built_at
    from records as r
    cross join
        lateral (
            values ('crm_id', r.crm_id, 1), ('email', r.email, 3), ('phone', r.phone, 4)
        ) as k (key_type, key_value, precedence)
    where k.key_value is not null
)

select * from final
