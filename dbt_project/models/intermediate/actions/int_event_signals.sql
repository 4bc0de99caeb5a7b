-- The signals raised for single events, under the rules in ops.action_rule (INSIGHT_HUB_ACTIONS): every
-- detractor's survey answer, complaint and repeat contact, with its owner and due date. The heaviest part
-- of the action signals (every handled contact is compared with the customer's previous one), built
-- beside customer_360 rather than after it: int_action_signals adds the signals that need customer_360's
-- history and serves both to the action sync.

with rules as (
    select * from {{ ref('stg_ops__action_rules') }}
),

-- An NPS answer of 0-6 or a CSAT answer of 1-2 (fct_survey_response.needs_follow_up).
detractors as (
    select
        'detractor:' || response_id as action_key,
        'detractor' as action_type,
        customer_id,
        null::text as theme_id,
        null::text as promise_id,
        upper(survey_type) || ' ' || score || ' on ' || response_date
        || coalesce(' after a ' || contact_channel || ' contact', '')
        || ' (response ' || response_id || ')' as evidence,
        submitted_at as signal_at,
        true as is_active,
        null::text as cleared_because
    from {{ ref('fct_survey_response') }}
    where needs_follow_up
),

complaints as (
    select
        'complaint:' || interaction_id as action_key,
        'complaint' as action_type,
        customer_id,
        null::text as theme_id,
        null::text as promise_id,
        'complaint about ' || coalesce(reason, 'an unknown reason') || ' by ' || channel
        || ' to the ' || queue || ' queue on ' || contact_date
        || ' (contact ' || interaction_id || ')' as evidence,
        queued_at as signal_at,
        true as is_active,
        null::text as cleared_because
    from {{ ref('fct_contact') }}
    where is_complaint
),

handled_contacts as (
    select
        interaction_id,
        customer_id,
        reason,
        channel,
        contact_date,
        queued_at,
        lag(interaction_id) over (
            partition by customer_id, reason order by queued_at asc, interaction_id asc
        ) as previous_id,
        lag(queued_at) over (
            partition by customer_id, reason order by queued_at asc, interaction_id asc
        ) as previous_at
    from {{ ref('fct_contact') }}
    where is_handled and customer_id is not null and reason is not null
),

-- The same customer back about the same reason within the rule's days of their previous contact.
repeats as (
    select
        'repeat_contact:' || c.interaction_id as action_key,
        'repeat_contact' as action_type,
        c.customer_id,
        null::text as theme_id,
        null::text as promise_id,
        'back about ' || c.reason || ' by ' || c.channel || ' on ' || c.contact_date
        || ', ' || round(extract(epoch from c.queued_at - c.previous_at) / 86400.0, 1)
        || ' days after contact ' || c.previous_id || ' (contact ' || c.interaction_id || ')' as evidence,
        c.queued_at as signal_at,
        true as is_active,
        null::text as cleared_because
    from handled_contacts as c
    inner join rules as r on r.action_type = 'repeat_contact'
    where c.previous_at >= c.queued_at - interval '1 day' * r.within_days
),

signals as (
    select * from detractors
    union all
    select * from complaints
    union all
    select * from repeats
)

{{ signals_with_owners('signals') }}
