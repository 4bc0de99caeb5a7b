{#
  Every key the CRM knows (account ids, contacts' e-mails and phones) and the account it points to.
  A key two accounts share (a household e-mail) is ambiguous: customer_id is null, and it is never
  used to match, so one shared e-mail cannot merge two customers.
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

final as (
    select
        key_type,
        key_value,
        count(distinct account_id) as account_count,
        case when count(distinct account_id) = 1 then min(account_id) end as customer_id
    from crm_keys
    group by key_type, key_value
)

select * from final
