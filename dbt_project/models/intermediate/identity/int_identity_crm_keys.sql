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

  Incremental: a row is written only for a key that is new or points elsewhere now, and a key the CRM
  no longer has stays with account_count 0 and no customer. built_at then tells
  int_identity_crm_matches which keys changed, so it matches again only the records carrying them.
  A build looks again only at the keys whose accounts can have changed since the last one: new
  account ids, and the e-mails and phones of each contact published since then that is new or has
  another e-mail, phone or account than the version the last build saw (a CRM exported whole again
  changes few). Each row keeps the newest raw account and contact it was computed from (the high-water
  marks). The key map is computed whole on a first build, on a table built before the marks, and after
  an erasure (insight-hub forget removes the customer's keys, shared ones too, and only a whole map
  puts a shared key back for the accounts that remain).
#}
{%- set marks = crm_keys_high_water() -%}
{#- Literals written into the SQL: `whole` is true when the map is computed whole, and the candidate keys
    are then never read. -#}
{%- set whole = 'false' if marks else 'true' -%}
{%- set account_mark = marks.account if marks else "'-infinity'::timestamptz" -%}
{%- set contact_mark = marks.contact if marks else "'-infinity'::timestamptz" -%}

with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

-- Every contact with a row published since the last build, in two versions: the one the last build
-- saw (its newest row before the mark) and the one it has now.
contact_versions as (
    select
        c.contact_id,
        c.account_id,
        {{ normalize_email('c.email') }} as email,
        {{ normalize_phone('c.phone') }} as phone,
        c._loaded_at > {{ contact_mark }} as is_new,
        row_number() over (
            partition by c.contact_id, c._loaded_at > {{ contact_mark }}
            order by c._batch_id desc, c._record_no desc
        ) as version_rank
    from {{ source('crm', 'contact') }} as c
    where c.contact_id in (
        select p.contact_id from {{ source('crm', 'contact') }} as p
        where p._loaded_at > {{ contact_mark }}
    )
),

contact_changes as (
    select
        now_.contact_id,
        before_.email as email_before,
        before_.phone as phone_before,
        now_.email,
        now_.phone
    from contact_versions as now_
    left join contact_versions as before_
        on now_.contact_id = before_.contact_id and not before_.is_new and before_.version_rank = 1
    where
        now_.is_new
        and now_.version_rank = 1
        and (
            before_.contact_id is null or (now_.account_id, now_.email, now_.phone)
            is distinct from (before_.account_id, before_.email, before_.phone)
        )
),

-- The keys whose accounts can have changed: new account ids, and the e-mails and phones a changed
-- contact (a new one, one with another e-mail, phone or account) had before and has now.
candidate_keys as (
    select
        'crm_id' as key_type,
        a.account_id as key_value
    from {{ source('crm', 'account') }} as a
    where
        a._loaded_at > {{ account_mark }}
        and not exists (
            select 1 from {{ source('crm', 'account') }} as b
            where b.account_id = a.account_id and b._loaded_at <= {{ account_mark }}
        )
    union
    select
        k.key_type,
        k.key_value
    from contact_changes as c
    cross join
        lateral (
            values
            ('email', c.email_before), ('email', c.email), ('phone', c.phone_before), ('phone', c.phone)
        ) as k (key_type, key_value)
    where k.key_value is not null
),

crm_keys as (
    select
        account_id,
        'crm_id' as key_type,
        account_id as key_value
    from accounts
    where
        {{ whole }}
        or account_id in (
            select k.key_value from candidate_keys as k
            where k.key_type = 'crm_id'
        )
    union all
    select
        account_id,
        'email' as key_type,
        email as key_value
    from contacts
    where
        email is not null
        and (
            {{ whole }}
            or email in (
                select k.key_value from candidate_keys as k
                where k.key_type = 'email'
            )
        )
    union all
    select
        account_id,
        'phone' as key_type,
        phone as key_value
    from contacts
    where
        phone is not null
        and (
            {{ whole }}
            or phone in (
                select k.key_value from candidate_keys as k
                where k.key_type = 'phone'
            )
        )
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
            and (
                {{ whole }}
                or exists (
                    select 1 from candidate_keys as k
                    where k.key_type = t.key_type and k.key_value = t.key_value
                )
            )
            and not exists (
                select 1 from current_keys as c
                where c.key_type = t.key_type and c.key_value = t.key_value
            )
    {% endif %}
)

select
    *,
    (select max(a._loaded_at) from {{ source('crm', 'account') }} as a) as account_loaded_at,
    (select max(c._loaded_at) from {{ source('crm', 'contact') }} as c) as contact_loaded_at,
    {{ built_at() }}
from final
