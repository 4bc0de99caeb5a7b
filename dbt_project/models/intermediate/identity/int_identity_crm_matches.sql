{{
    config(
        materialized='incremental',
        unique_key=['record_type', 'record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['record_type', 'record_id'], 'unique': True},
            {'columns': ['built_at']},
        ],
    )
}}
{#
  Every record with the CRM account it matches, by the first rule that applies: the CRM id it carries,
  the contact a survey answers (its interaction's account), the exact normalised e-mail, the exact
  E.164 phone. Only unambiguous CRM keys match. A record no rule matches has a null customer_id.
  match_key_type / match_key_value name the key that matched (null for interaction_link).

  Incremental: a build matches again only the records that can have changed, and writes a row only
  when its match did (built_at then says when):
  - records int_identity_records wrote since the last build (new, corrected or erased);
  - records carrying a key int_identity_crm_keys wrote since then: a key that is new to the CRM, now
    points to another account or to several, or is gone (looked up by the records' key indexes);
  - survey responses answering an interaction in either.
#}
with records as not materialized (
    select * from {{ ref('int_identity_records') }}
),

crm_keys as not materialized (
    select * from {{ ref('int_identity_crm_keys') }}
    where customer_id is not null
),

{% if is_incremental() %}
    previous as not materialized (
        select * from {{ this }}
    ),

    changed_keys as (
        select
            key_type,
            key_value
        from {{ ref('int_identity_crm_keys') }}
        where built_at > {{ high_water('built_at') }}
    ),

    directly_affected as (
        select
            record_type,
            record_id
        from records
        where built_at > {{ high_water('built_at') }}
        union
        select
            r.record_type,
            r.record_id
        from changed_keys as k
        inner join records as r on k.key_type = 'crm_id' and k.key_value = r.crm_id
        union
        select
            r.record_type,
            r.record_id
        from changed_keys as k
        inner join records as r on k.key_type = 'email' and k.key_value = r.email
        union
        select
            r.record_type,
            r.record_id
        from changed_keys as k
        inner join records as r on k.key_type = 'phone' and k.key_value = r.phone
    ),

    affected as (
        select * from directly_affected
        union
        select
            r.record_type,
            r.record_id
        from directly_affected as a
        inner join records as r
            on a.record_type = 'interaction' and a.record_id = r.answers_interaction_id
    ),

    affected_records as (
        select r.*
        from records as r
        inner join affected as a on r.record_type = a.record_type and r.record_id = a.record_id
    ),
{% else %}
    affected_records as (
        select * from records
    ),
{% endif %}

-- The keys an affected record carries, with the precedence of a match by each.
affected_keys as (
    select
        r.record_type,
        r.record_id,
        k.key_type,
        k.key_value,
        k.precedence
    from affected_records as r
    cross join
        lateral (
            values ('crm_id', r.crm_id, 1), ('email', r.email, 3), ('phone', r.phone, 4)
        ) as k (key_type, key_value, precedence)
    where k.key_value is not null
),

key_matches as (
    select
        s.record_type,
        s.record_id,
        k.customer_id,
        s.key_type as match_rule,
        s.key_type as match_key_type,
        s.key_value as match_key_value,
        s.precedence
    from affected_keys as s
    inner join crm_keys as k on s.key_type = k.key_type and s.key_value = k.key_value
),

-- The account of each interaction an affected survey answers: its own best key match (interactions
-- have no link rule), from this build's matches if it was matched again, else the one it had.
interaction_customer as (
    (
        select distinct on (record_id)
            record_id as interaction_id,
            customer_id
        from key_matches
        where record_type = 'interaction'
        order by record_id asc, precedence asc
    )
    {% if is_incremental() %}
        union all
        select
            p.record_id as interaction_id,
            p.customer_id
        from previous as p
        where
            p.record_type = 'interaction'
            and p.customer_id is not null
            and p.record_id in (
                select l.answers_interaction_id from affected_records as l
                where l.answers_interaction_id is not null
            )
            and not exists (
                select 1 from affected as a
                where a.record_type = 'interaction' and a.record_id = p.record_id
            )
    {% endif %}
),

survey_links as (
    select
        r.record_type,
        r.record_id,
        ic.customer_id,
        'interaction_link' as match_rule,
        null::text as match_key_type,
        null::text as match_key_value,
        2 as precedence
    from affected_records as r
    inner join interaction_customer as ic on r.answers_interaction_id = ic.interaction_id
),

candidates as (
    select * from key_matches
    union all
    select * from survey_links
),

best as (
    select distinct on (record_type, record_id) *
    from candidates
    order by record_type asc, record_id asc, precedence asc
),

final as (
    select
        r.record_type,
        r.record_id,
        b.customer_id,
        b.match_rule,
        b.match_key_type,
        b.match_key_value,
        b.precedence,
        {{ built_at() }}
    from affected_records as r
    left join best as b on r.record_type = b.record_type and r.record_id = b.record_id
)

select f.*
from final as f
{% if is_incremental() %}
    where not exists (
        select 1 from previous as p
        where
            p.record_type = f.record_type
            and p.record_id = f.record_id
            and p.customer_id is not distinct from f.customer_id
            and p.match_rule is not distinct from f.match_rule
            and p.match_key_value is not distinct from f.match_key_value
    )
{% endif %}
