{{
    config(
        materialized='incremental',
        unique_key=['key_type', 'key_value'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['key_type', 'key_value'], 'unique': True},
            {'columns': ['built_at']},
        ],
    )
}}
{#
  Every key the CRM knows (account ids, contacts' e-mails and phones) and the account it points to.
  A key two accounts share (a household e-mail) is ambiguous: customer_id is null, and it is never
  used to match, so one shared e-mail cannot merge two customers.

  Incremental: the key map is computed whole (the CRM is small beside the records), but a row is
  written only for a key that is new or points elsewhere now, and a key the CRM no longer has stays
  with account_count 0 and no customer. built_at then tells int_identity_crm_matches which keys
  changed, so it matches again only the records carrying them.
#}
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

crm_keys as (
    select
        account_id,
        'crm_id' as key_type,
        account_id as key_value
    from accounts
    union all
    select
        account_id,
        'email' as key_type,
        email as key_value
    from contacts
    where email is not null
    union all
    select
        account_id,
        'phone' as key_type,
        phone as key_value
    from contacts
    where phone is not null
),

current_keys as (
    select
        key_type,
        key_value,
        count(distinct account_id) as account_count,
        case when count(distinct account_id) = 1 then min(account_id) end as customer_id
    from crm_keys
    group by key_type, key_value
),

final as (
    select c.*
    from current_keys as c
    {% if is_incremental() %}
        left join {{ this }} as t on c.key_type = t.key_type and c.key_value = t.key_value
        where
            t.key_value is null
            or t.account_count <> c.account_count
            or t.customer_id is distinct from c.customer_id
        union all
        select
            t.key_type,
            t.key_value,
            0 as account_count,
            null::text as customer_id
        from {{ this }} as t
        where
            t.account_count > 0
            and not exists (
                select 1 from current_keys as c
                where c.key_type = t.key_type and c.key_value = t.key_value
            )
    {% endif %}
)

select
    *,
    {{ built_at() }}
from final
