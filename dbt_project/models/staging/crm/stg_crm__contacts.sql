with source as (
    {{ latest_by_key(source('crm', 'contact'), 'contact_id') }}
),

final as (
    select
        contact_id,
        account_id,
        first_name,
        last_name,
        {{ normalize_email('email') }} as email,
        {{ normalize_phone('phone') }} as phone,
        upper(btrim(postcode)) as postcode,
        coalesce(marketing_consent, false) as has_marketing_consent
    from source
)

select * from final
