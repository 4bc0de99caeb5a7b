{# The final select of the action signals: each signal of the CTE `signals` (action_key, action_type,
   customer_id, theme_id, promise_id, evidence, signal_at, is_active, cleared_because) with its owner and
   due date under its rule in ops.action_rule (INSIGHT_HUB_ACTIONS). A signal whose type has no rule is
   left out. The owner: the customer's relationship owner when the rule says account_owner (and the
   customer has one), else the lead of the function the rule names (by promise for charter_broken, the
   theme's function for theme_owner), else the service lead. #}
{% macro signals_with_owners(signals) -%}
    select
        s.action_key,
        s.action_type,
        s.customer_id,
        s.theme_id,
        s.promise_id,
        s.evidence,
        coalesce(
            case when r.owner_rule = 'account_owner' then c.owner_id end,
            fl.owner_id,
            service.owner_id
        ) as owner_id,
        s.signal_at,
        s.signal_at + interval '1 day' * r.due_within_days as due_at,
        s.is_active,
        s.cleared_because
    from {{ signals }} as s
    inner join {{ ref('stg_ops__action_rules') }} as r on s.action_type = r.action_type
    left join {{ ref('dim_customer') }} as c on s.customer_id = c.customer_id
    left join (
        select distinct
            theme_id,
            owner_function
        from {{ ref('stg_ops__theme_keywords') }}
    ) as t on s.theme_id = t.theme_id
    left join {{ ref('stg_ops__function_leads') }} as fl
        on fl.function_name = case
            when r.owner_rule = 'theme_owner' then t.owner_function
            when r.owner_rule <> 'account_owner' then coalesce(r.owner_by_promise ->> s.promise_id, r.owner_rule)
        end
    left join {{ ref('stg_ops__function_leads') }} as service on service.function_name = 'service'
{%- endmacro %}

{# What int_event_signals' rows depend on besides the facts: the action rules and the function leads,
   as one md5 (SQL). A build that finds another fingerprint in the table recomputes every signal. #}
{% macro event_signal_rules_fingerprint() -%}
    select md5(
        coalesce((select string_agg(r::text, '|' order by r::text) from {{ ref('stg_ops__action_rules') }} as r), '')
        || '#'
        || coalesce((select string_agg(f::text, '|' order by f::text) from {{ ref('stg_ops__function_leads') }} as f), '')
    )
{%- endmacro %}

{# In int_event_signals' incremental build: whether its rows were computed under other rules or function
   leads (or there are none), so that every signal is recomputed. #}
{% macro event_signal_rules_changed() -%}
    {%- do return(rules_fingerprint_changed(event_signal_rules_fingerprint())) -%}
{%- endmacro %}

{# Whether the model's stored rows carry another rules_fingerprint than `fingerprint` (SQL), or there are
   none: read when the model runs (false before then). #}
{% macro rules_fingerprint_changed(fingerprint) -%}
    {%- if not execute -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set query -%}
        select coalesce((select t.rules_fingerprint from {{ this }} as t limit 1), '') <> ({{ fingerprint }})
    {%- endset -%}
    {%- do return(run_query(query).columns[0].values()[0]) -%}
{%- endmacro %}

{# int_event_signals' pre-hooks. What a build recomputes, as the temporary table event_signals_rebuilt:
   the contacts and survey responses the facts rebuilt since its last build (kind contact, response), and
   the customers whose contact signals are recomputed from a time on (kind customer, from_at):
   - a customer with a rebuilt contact, from that contact's time: a contact's repeat signal depends on the
     customer's contacts before it, so a contact added, changed or re-resolved changes the signals of
     that customer's contacts from its time on and none before (complaints depend on the contact alone);
   - a customer a re-resolved contact left (int_customer_records_resolved.previous_customer_id), from
     that contact's time;
   - a customer with a new version of their golden record (dim_customer_history: a new owner owns all
     their signals), every signal (from_at -infinity), detractors' included.
   Like fct_contact's repeat window, this takes a contact's queue time as fixed: it is when the contact
   reached the contact centre. #}
{% macro event_signals_rebuilt() -%}
    {%- if is_incremental() and not event_signal_rules_changed() %}
        {%- set since = high_water('built_at') %}
        create temporary table event_signals_rebuilt on commit drop as
        with contacts_rebuilt as (
            select
                interaction_id,
                customer_id,
                queued_at
            from {{ ref('fct_contact') }}
            where built_at > {{ since }}
        ),

        left_customers as (
            select
                r.previous_customer_id as customer_id,
                coalesce(c.queued_at, '-infinity') as from_at
            from {{ ref('int_customer_records_resolved') }} as r
            left join {{ ref('fct_contact') }} as c on r.record_id = c.interaction_id
            where
                r.record_type = 'interaction'
                and r.built_at > {{ since }}
                and r.previous_customer_id is distinct from r.customer_id
        )

        select
            'contact' as kind,
            interaction_id as record_id,
            null::text as customer_id,
            null::timestamptz as from_at
        from contacts_rebuilt
        union all
        select
            'response' as kind,
            response_id as record_id,
            null::text as customer_id,
            null::timestamptz as from_at
        from {{ ref('fct_survey_response') }}
        where built_at > {{ since }}
        union all
        select
            'customer' as kind,
            null::text as record_id,
            customer_id,
            min(from_at) as from_at
        from (
            select
                customer_id,
                queued_at as from_at
            from contacts_rebuilt
            union all
            select
                customer_id,
                from_at
            from left_customers
            union all
            select
                customer_id,
                '-infinity'::timestamptz as from_at
            from {{ ref('dim_customer_history') }}
            where dbt_valid_from > {{ since }}
        ) as touched
        where customer_id is not null
        group by customer_id;
        analyze event_signals_rebuilt
    {%- endif %}
{%- endmacro %}

{# Deletes every signal the build computes again: those of the rebuilt contacts and responses (by key), and
   each rebuilt customer's contact signals from its from_at on (all of its signals from -infinity), found
   through the customer index. One array of keys: PostgreSQL then deletes by the action_key index. #}
{% macro delete_event_signals_rebuilt() -%}
    {%- if is_incremental() and event_signal_rules_changed() %}
        delete from {{ this }}
    {%- elif is_incremental() %}
        delete from {{ this }} as t
        where t.action_key = any(array(
            select a.prefix || r.record_id
            from event_signals_rebuilt as r
            inner join (
                values ('response', 'detractor:'), ('contact', 'complaint:'), ('contact', 'repeat_contact:')
            ) as a (kind, prefix) on r.kind = a.kind
            union
            select s.action_key
            from event_signals_rebuilt as r
            inner join {{ this }} as s on r.customer_id = s.customer_id
            where
                r.kind = 'customer'
                and s.signal_at >= r.from_at
                and (r.from_at = '-infinity' or s.action_type in ('complaint', 'repeat_contact'))
        ))
    {%- endif %}
{%- endmacro %}
