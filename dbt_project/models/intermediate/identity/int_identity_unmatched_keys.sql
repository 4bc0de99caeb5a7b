{#
  The e-mail and phone keys of records no CRM rule matched, minus keys the CRM knows (a record with
  a household e-mail two accounts share cannot say which of them it is): the nodes of the guest graph
  in int_identity_guest_keys. A table of its own so the graph's joins are planned on its real size.
#}
with keys_seen as (
    select * from {{ ref('int_identity_keys_seen') }}
),

crm_keys as (
    select * from {{ ref('int_identity_crm_keys') }}
),

crm_matches as (
    select * from {{ ref('int_identity_crm_matches') }}
),

final as (
    select
        s.record_type,
        s.record_id,
        s.key_type || ':' || s.key_value as node
    from crm_matches as m
    inner join keys_seen as s on m.record_type = s.record_type and m.record_id = s.record_id
    where
        m.customer_id is null
        and s.key_type in ('email', 'phone')
        and not exists (
            select 1 from crm_keys as k
            where k.key_type = s.key_type and k.key_value = s.key_value
        )
)

select * from final
