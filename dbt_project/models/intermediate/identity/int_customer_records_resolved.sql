{#
  Every customer-bearing source record resolved to one customer_id.
  The CRM account is the golden identity: a record matches an account by, in order of
  precedence, the CRM id it carries, the interaction it answers (surveys), the exact
  normalised e-mail, then the exact E.164 phone. A key that two accounts share is
  ambiguous and never used, so one shared family e-mail cannot merge two customers.
#}
with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

interactions as (
    select * from {{ ref('stg_contact_centre__interactions') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

crm_keys as (
    select
        account_id as customer_id,
        'crm_id' as key_type,
        account_id as key_value
    from accounts
    union all
    select
        account_id as customer_id,
        'email' as key_type,
        email as key_value
    from contacts
    where email is not null
    union all
    select
        account_id as customer_id,
        'phone' as key_type,
        phone as key_value
    from contacts
    where phone is not null
),

unambiguous_keys as (
    select
        key_type,
        key_value,
        min(customer_id) as customer_id
    from crm_keys
    group by key_type, key_value
    having count(distinct customer_id) = 1
),

records as (
    select
        'interaction' as record_type,
        interaction_id as record_id
    from interactions
    union all
    select
        'response' as record_type,
        response_id as record_id
    from responses
    union all
    select
        'order' as record_type,
        order_id as record_id
    from orders
),

keys_seen as (
    select
        'interaction' as record_type,
        interaction_id as record_id,
        'crm_id' as key_type,
        customer_crm_id as key_value
    from interactions
    where customer_crm_id is not null
    union all
    select
        'interaction' as record_type,
        interaction_id as record_id,
        'email' as key_type,
        customer_email as key_value
    from interactions
    where customer_email is not null
    union all
    select
        'interaction' as record_type,
        interaction_id as record_id,
        'phone' as key_type,
        customer_phone as key_value
    from interactions
    where customer_phone is not null
    union all
    select
        'response' as record_type,
        response_id as record_id,
        'email' as key_type,
        respondent_email as key_value
    from responses
    where respondent_email is not null
    union all
    select
        'order' as record_type,
        order_id as record_id,
        'crm_id' as key_type,
        customer_crm_id as key_value
    from orders
    where customer_crm_id is not null
    union all
    select
        'order' as record_type,
        order_id as record_id,
        'email' as key_type,
        customer_email as key_value
    from orders
    where customer_email is not null
),

key_matches as (
    select
        s.record_type,
        s.record_id,
        k.customer_id,
        s.key_type as match_rule,
        case s.key_type when 'crm_id' then 1 when 'email' then 3 else 4 end as precedence
    from keys_seen as s
    inner join unambiguous_keys as k
        on s.key_type = k.key_type and s.key_value = k.key_value
),

interaction_customer as (
    select distinct on (record_id)
        record_id as interaction_id,
        customer_id
    from key_matches
    where record_type = 'interaction'
    order by record_id, precedence
),

survey_links as (
    select
        'response' as record_type,
        r.response_id as record_id,
        ic.customer_id,
        'interaction_link' as match_rule,
        2 as precedence
    from responses as r
    inner join interaction_customer as ic on r.interaction_id = ic.interaction_id
),

candidates as (
    select * from key_matches
    union all
    select * from survey_links
),

best as (
    select distinct on (record_type, record_id)
        record_type,
        record_id,
        customer_id,
        match_rule
    from candidates
    order by record_type, record_id, precedence
),

final as (
    select
        r.record_type,
        r.record_id,
        b.customer_id,
        coalesce(b.match_rule, 'unmatched') as match_rule
    from records as r
    left join best as b on r.record_type = b.record_type and r.record_id = b.record_id
)

select * from final
