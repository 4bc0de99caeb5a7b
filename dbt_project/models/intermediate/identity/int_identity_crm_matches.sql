{#
  Records matched to a CRM account, by the first rule that applies: the CRM id they carry, the
  contact a survey answers (its interaction's account), the exact normalised e-mail, the exact
  E.164 phone. Only unambiguous CRM keys match.
#}
with keys_seen as (
    select * from {{ ref('int_identity_keys_seen') }}
),

crm_keys as (
    select * from {{ ref('int_identity_crm_keys') }}
    where customer_id is not null
),

records as (
    select * from {{ ref('int_identity_records') }}
),

key_matches as (
    select
        s.record_type,
        s.record_id,
        k.customer_id,
        s.key_type as match_rule,
        case s.key_type when 'crm_id' then 1 when 'email' then 3 else 4 end as precedence
    from keys_seen as s
    inner join crm_keys as k
        on s.key_type = k.key_type and s.key_value = k.key_value
),

interaction_customer as (
    select distinct on (record_id)
        record_id as interaction_id,
        customer_id
    from key_matches
    where record_type = 'interaction'
    order by record_id asc, precedence asc
),

survey_links as (
    select
        r.record_type,
        r.record_id,
        ic.customer_id,
        'interaction_link' as match_rule,
        2 as precedence
    from records as r
    inner join interaction_customer as ic on r.answers_interaction_id = ic.interaction_id
),

candidates as (
    select * from key_matches
    union all
    select * from survey_links
),

final as (
    select distinct on (record_type, record_id)
        record_type,
        record_id,
        customer_id,
        match_rule
    from candidates
    order by record_type asc, record_id asc, precedence asc
)

select * from final
