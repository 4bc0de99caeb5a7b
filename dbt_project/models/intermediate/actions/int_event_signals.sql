{#- The customer index holds signal_at: the pre-hook deletes a customer's contact signals from a time on,
    and reads only those rows of the table (delete_event_signals_rebuilt). #}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['action_key'], 'unique': True},
            {'columns': ['customer_id', 'signal_at']},
            {'columns': ['built_at']},
        ],
        pre_hook=["{{ event_signals_rebuilt() }}", "{{ delete_event_signals_rebuilt() }}"],
    )
}}
-- depends_on: {{ ref('int_customer_records_resolved') }}
-- depends_on: {{ ref('dim_customer_history') }}
{#
  The signals raised for single events, under the rules in ops.action_rule (INSIGHT_HUB_ACTIONS): every
  detractor's survey answer, complaint and repeat contact, with its owner and due date. The heaviest
  part of the action signals (every handled contact is compared with the customer's previous one), built
  beside customer_360 rather than after it: int_action_signals adds the signals that need customer_360's
  history and serves both to the action sync.

  Incremental (see event_signals_rebuilt): a build recomputes the signals of the survey responses and
  contacts the facts rebuilt since the last build, the contact signals of each customer who gained,
  changed or lost a contact from that contact's time on (a repeat contact is judged against the
  customer's contacts before it, as they are now), and every signal of a customer whose golden record
  changed (a new owner: dim_customer_history). When the rules or the function leads change
  (rules_fingerprint), every signal is recomputed.

  The pre-hooks delete every signal the build computes again (delete_event_signals_rebuilt), so the new
  rows are appended; a key written twice would fail the build on the unique index rather than be kept
  twice. dbt's delete+insert deleted the same keys a second time (0.67 s of the hub benchmark's daily
  build, for rows already gone).
#}
{%- set incremental = is_incremental() and not event_signal_rules_changed() %}
with rules as (
    select * from {{ ref('stg_ops__action_rules') }}
),

{% if incremental %}
    rebuilt as not materialized (
        select * from event_signals_rebuilt
    ),
{% endif %}

-- Arrays, so that both sides of the OR are found by an index (as in delete_event_signals_rebuilt).
responses as not materialized (
    select * from {{ ref('fct_survey_response') }}
    {%- if incremental %}
        where
            response_id = any(array(
                select r.record_id from rebuilt as r
                where r.kind = 'response'
            ))
            or customer_id = any(array(
                select r.customer_id from rebuilt as r
                where r.kind = 'customer' and r.from_at = '-infinity'
            ))
    {%- endif %}
),

-- Each recomputed customer's contacts from its from_at on (those before it by up to the repeat rule's days
-- as well: a repeat looks back at them), found by the customer index; and the rebuilt contacts no one
-- resolved (a complaint without a customer). Signals are raised for contacts from from_at on only.
contacts as not materialized (
    {%- if incremental %}
        select
            c.*,
            r.from_at
        from rebuilt as r
        inner join {{ ref('fct_contact') }} as c on r.customer_id = c.customer_id
        where
            r.kind = 'customer'
            and c.queued_at >= r.from_at - interval '1 day' * (
                select coalesce(max(rr.within_days), 0) from rules as rr
                where rr.action_type = 'repeat_contact'
            )
        union all
        select
            c.*,
            '-infinity'::timestamptz as from_at
        from {{ ref('fct_contact') }} as c
        where
            c.customer_id is null
            and c.interaction_id in (
                select r.record_id from rebuilt as r
                where r.kind = 'contact'
            )
    {%- else %}
        select
            *,
            '-infinity'::timestamptz as from_at
        from {{ ref('fct_contact') }}
    {%- endif %}
),

-- An NPS answer of 0-6 or a CSAT answer of 1-2 (fct_survey_response.needs_follow_up).
detractors as (
    select
        'detractor:' || response_id as action_key,
        'detractor' as action_type,
        customer_id,
        upper(survey_type) || ' ' || score || ' on ' || response_date
        || coalesce(' after a ' || contact_channel || ' contact', '')
        || ' (response ' || response_id || ')' as evidence,
        submitted_at as signal_at
    from responses
    where needs_follow_up
),

complaints as (
    select
        'complaint:' || interaction_id as action_key,
        'complaint' as action_type,
        customer_id,
        'complaint about ' || coalesce(reason, 'an unknown reason') || ' by ' || channel
        || ' to the ' || queue || ' queue on ' || contact_date
        || ' (contact ' || interaction_id || ')' as evidence,
        queued_at as signal_at
    from contacts
    where is_complaint and queued_at >= from_at
),

handled_contacts as (
    select
        interaction_id,
        customer_id,
        reason,
        channel,
        contact_date,
        queued_at,
        from_at,
        lag(interaction_id) over (
            partition by customer_id, reason order by queued_at asc, interaction_id asc
        ) as previous_id,
        lag(queued_at) over (
            partition by customer_id, reason order by queued_at asc, interaction_id asc
        ) as previous_at
    from contacts
    where is_handled and customer_id is not null and reason is not null
),

-- The same customer back about the same reason within the rule's days of their previous contact.
repeats as (
    select
        'repeat_contact:' || c.interaction_id as action_key,
        'repeat_contact' as action_type,
        c.customer_id,
        'back about ' || c.reason || ' by ' || c.channel || ' on ' || c.contact_date
        || ', ' || round(extract(epoch from c.queued_at - c.previous_at) / 86400.0, 1)
        || ' days after contact ' || c.previous_id || ' (contact ' || c.interaction_id || ')' as evidence,
        c.queued_at as signal_at
    from handled_contacts as c
    inner join rules as r on r.action_type = 'repeat_contact'
    where c.previous_at >= c.queued_at - interval '1 day' * r.within_days and c.queued_at >= c.from_at
),

-- A single event's signal stays active: the action sync closes none of them.
signals as (
    select
        action_key,
        action_type,
        customer_id,
        null::text as theme_id,
        null::text as promise_id,
        evidence,
        signal_at,
        true as is_active,
        null::text as cleared_because
    from (
        select * from detractors
        union all
        select * from complaints
        union all
        select * from repeats
    ) as events
),

owned as (
    {{ signals_with_owners('signals') }}
)

select
    *,
    ({{ event_signal_rules_fingerprint() }}) as rules_fingerprint,
    {{ built_at() }}
from owned
