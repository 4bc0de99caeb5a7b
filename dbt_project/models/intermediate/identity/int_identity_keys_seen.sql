{# One row per customer key (CRM id, normalised e-mail, E.164 phone) a source record carries. #}
with records as (
    select * from {{ ref('int_identity_records') }}
),

final as (
    select
        r.record_type,
        r.record_id,
        k.key_type,
        k.key_value
    from records as r
    cross join
        lateral (
            values ('crm_id', r.crm_id), ('email', r.email), ('phone', r.phone)
        ) as k (key_type, key_value)
    where k.key_value is not null
)

select * from final
