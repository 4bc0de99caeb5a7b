{#
  The e-mail and phone keys of records no CRM rule matched, minus keys the CRM knows (a record with
  a household e-mail two accounts share cannot say which of them it is): the nodes of the guest graph
  in int_identity_guest_keys. A table of its own so the graph's joins are planned on its real size.
#}
with records as (
    select * from {{ ref('int_identity_records') }}
),

-- Keys the CRM has now (int_identity_crm_keys keeps keys it no longer has, with no account).
crm_keys as (
    select * from {{ ref('int_identity_crm_keys') }}
    where account_count > 0
),

crm_matches as (
    select * from {{ ref('int_identity_crm_matches') }}
),

final as (
    select
        r.record_type,
        r.record_id,
        k.key_type || ':' || k.key_value as node
    from crm_matches as m
    inner join records as r on m.record_type = r.record_type and m.record_id = r.record_id
    cross join lateral (values ('email', r.email), ('phone', r.phone)) as k (key_type, key_value)
    where
        m.customer_id is null
        and k.key_value is not null
        and not exists (
            select 1 from crm_keys as c
            where c.key_type = k.key_type and c.key_value = k.key_value
        )
)

select * from final
