{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ unmatched_records_rebuilt() }}", "{{ delete_unmatched_records_rebuilt() }}"],
        indexes=[{'columns': ['record_type', 'record_id']}, {'columns': ['built_at']}],
    )
}}
{#
  The e-mail and phone keys of records no CRM rule matched, minus keys the CRM knows (a record with
  a household e-mail two accounts share cannot say which of them it is): the nodes of the guest graph
  in int_identity_guest_keys. A table of its own so the graph's joins are planned on its real size.

  Incremental by record: a build recomputes the records its hooks list (unmatched_records_rebuilt in
  macros/identity.sql: those whose match, keys or keys' standing in the CRM changed since the last
  build) after deleting their rows; a day of data changes a few thousand of the 176,000 unmatched
  records, where a whole rebuild looked each of them up in int_identity_records again.
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
    select m.*
    from {{ ref('int_identity_crm_matches') }} as m
    {% if is_incremental() %}
        inner join unmatched_records_rebuilt as b
            on m.record_type = b.record_type and m.record_id = b.record_id
    {% endif %}
),

final as (
    select
        r.record_type,
        r.record_id,
        k.key_type || ':' || k.key_value as node,
        {{ built_at() }}
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
