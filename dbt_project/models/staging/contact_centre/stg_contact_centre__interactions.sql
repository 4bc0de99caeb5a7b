with source as (
    {{ latest_by_key(source('contact_centre', 'interaction'), 'interaction_id') }}
),

final as (
    select
        interaction_id,
        channel,
        queue,
        agent_id,
        nullif(btrim(customer_crm_id), '') as customer_crm_id,
        {{ normalize_phone('customer_phone') }} as customer_phone,
        {{ normalize_email('customer_email') }} as customer_email,
        queued_at,
        answered_at,
        ended_at,
        coalesce(talk_seconds, 0) as talk_seconds,
        coalesce(hold_seconds, 0) as hold_seconds,
        coalesce(wrap_seconds, 0) as wrap_seconds,
        coalesce(transferred, false) as is_transferred,
        reason,
        outcome,
        coalesce(is_complaint, false) as is_complaint,
        notes,
        _batch_id as batch_id
    from source
)

select * from final
