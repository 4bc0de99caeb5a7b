{#
  One row per contact that entered a queue (deduplicated interactions), with its customer and the
  per-contact measures every contact-centre KPI is built from (KPIS.md, "Contact centre").
  A contact whose customer could not be identified can be neither a repeat nor a first-contact
  resolution: both need to know who came back.

  Incremental: a build rebuilds the contacts published since the last one, those whose customer the
  identity models now resolve differently, and the contacts of the customers either touches that fall
  in the repeat window before them (a contact's repeat and first-contact flags look that far ahead).
#}
{#- The contact_date index finds the newest day (customer_360's as-of date) and its last 30 days without reading
    the whole table. The customer index holds every column int_customer_lifetime counts and the repeat-window
    lookup below reads, so both read a customer's contacts from the index alone (macros/visibility.sql). #}
{{
    config(
        materialized='incremental',
        unique_key='interaction_id',
        incremental_strategy='delete+insert',
        indexes=[
            {'columns': ['interaction_id'], 'unique': True},
            {'columns': ['customer_id', 'queued_at', 'interaction_id', 'contact_date', 'is_offered', 'is_handled',
                         'is_complaint', 'is_followed_by_repeat', 'agent_cost']},
            {'columns': ['loaded_at']},
            {'columns': ['built_at']},
            {'columns': ['contact_date']},
        ],
        meta={'vacuum_after_build': true},
    )
}}
{#- The imports are used more than once; "not materialized" keeps PostgreSQL planning on the tables'
    own statistics instead of scanning each into a temporary result first. #}
with interactions as not materialized (
    select * from {{ ref('stg_contact_centre__interactions') }}
),

resolved as not materialized (
    select
        record_id as interaction_id,
        customer_id,
        built_at
    from {{ ref('int_customer_records_resolved') }}
    where record_type = 'interaction'
),
{% if is_incremental() %}
    -- Contacts published since the last build, and contacts the identity models now give another customer.
    changed as (
        select
            i.interaction_id,
            i.queued_at
        from interactions as i
        where i.loaded_at > {{ high_water('loaded_at') }}
        union
        {{ resolved_differently('resolved', 'interaction_id', ['queued_at']) }}
    ),

    -- Each customer a changed contact belongs to now or belonged to before, and when.
    touched as (
        select
            r.customer_id,
            c.queued_at
        from changed as c
        inner join resolved as r on c.interaction_id = r.interaction_id
        where r.customer_id is not null
        union
        select
            t.customer_id,
            c.queued_at
        from changed as c
        inner join {{ this }} as t on c.interaction_id = t.interaction_id
        where t.customer_id is not null
    ),

    -- A touched customer's contacts in the repeat window before a change look ahead at it: they are
    -- rebuilt. Their look-ahead needs the customer's contacts up to a window after it as well.
    -- They are read from this table, customer by customer through its customer index (a join let
    -- PostgreSQL hash every contact): a contact whose customer is not the one stored here is a changed
    -- contact, and every changed contact is in the neighbourhood anyway.
    neighbourhood as (
        select
            t.interaction_id,
            bool_or(t.queued_at <= x.queued_at) as is_rebuilt
        from touched as x
        cross join
            lateral (
                select
                    s.interaction_id,
                    s.queued_at
                from {{ this }} as s
                where
                    s.customer_id = x.customer_id
                    and s.queued_at >= x.queued_at - interval '1 day' * {{ var('repeat_window_days') }}
                    and s.queued_at <= x.queued_at + interval '1 day' * {{ var('repeat_window_days') }}
            ) as t
        group by t.interaction_id
        union all
        select
            interaction_id,
            true as is_rebuilt
        from changed
    ),
{% endif %}

agents as (
    select * from {{ ref('stg_contact_centre__agents') }}
),

contacts as (
    select
        i.*,
        r.customer_id,
        i.answered_at is not null as is_handled,
        round(extract(epoch from i.answered_at - i.queued_at))::integer as answer_seconds,
        -- An abandon's wait ends when the customer hung up; without an end time it cannot be short.
        i.answered_at is null
        and coalesce(extract(epoch from i.ended_at - i.queued_at) < {{ var('short_abandon_seconds') }}, false)
            as is_short_abandon,
        ('{{ var("service_level_seconds") | tojson }}'::jsonb ->> i.channel)::integer as service_level_seconds
    from interactions as i
    left join resolved as r on i.interaction_id = r.interaction_id
    {% if is_incremental() %}
        where i.interaction_id in (select n.interaction_id from neighbourhood as n)
    {% endif %}
),

followed as (
    select
        *,
        lead(queued_at) over (partition by customer_id order by queued_at, interaction_id) as next_contact_at,
        lead(queued_at) over (
            partition by customer_id, reason order by queued_at, interaction_id
        ) as next_same_reason_at
    from contacts
),

final as (
    select
        f.interaction_id,
        f.customer_id,
        (f.queued_at at time zone '{{ var("reporting_timezone") }}')::date as contact_date,
        f.channel,
        f.queue,
        f.agent_id,
        f.reason,
        f.outcome,
        f.queued_at,
        f.answered_at,
        f.ended_at,
        not f.is_short_abandon as is_offered,
        f.is_handled,
        not f.is_handled and not f.is_short_abandon as is_abandoned,
        f.is_short_abandon,
        f.answer_seconds,
        case when f.is_handled then f.talk_seconds + f.hold_seconds + f.wrap_seconds end as handle_seconds,
        f.is_handled and f.answer_seconds <= f.service_level_seconds as is_within_service_level,
        f.is_handled and f.is_transferred as is_transferred,
        f.is_handled and f.is_complaint as is_complaint,
        f.is_handled and f.customer_id is not null
        and coalesce(f.next_contact_at <= f.queued_at + interval '1 day' * {{ var('repeat_window_days') }}, false)
            as is_followed_by_repeat,
        f.is_handled and f.customer_id is not null and f.outcome = 'resolved'
        and not coalesce(
            f.next_same_reason_at <= f.queued_at + interval '1 day' * {{ var('repeat_window_days') }}, false
        ) as is_first_contact_resolution,
        case
            when f.is_handled
                then round((f.talk_seconds + f.hold_seconds + f.wrap_seconds) / 3600.0 * a.cost_per_hour, 4)
        end as agent_cost,
        f.loaded_at,
        {{ built_at() }}
    from followed as f
    left join agents as a on f.agent_id = a.agent_id
    {% if is_incremental() %}
        where f.interaction_id in (
            select n.interaction_id from neighbourhood as n
            where n.is_rebuilt
        )
    {% endif %}
)

-- Written in day order. The models that recount days (contact_centre_daily, int_owner_daily_counts, the
-- window edges of int_customer_lifetime) read a day's contacts through the contact_date index; a full build
-- comes out in customer order (the repeat windows), which would spread every day over every page of the table.
select * from final
order by contact_date
