{#
  What each manager's scope in manager_kpis adds up to on each day: one row per owner and day with
  the contact, survey and delivery counts the period KPIs are computed from. Scope as in manager_kpis:
  the head of service counts every contact, response and order; a team lead the contacts in their
  queues and the responses about them; a relationship owner those of the customers whose account they
  own. The distinct-customer counts are taken at contact_centre_daily's grain (day, queue, channel,
  agent) and summed, as the charter's formulas do: the contacts are first grouped by that grain and
  customer (contact_cells), so a customer counts once per cell.

  manager_kpis sums a week or a month of these rows instead of joining a month of facts to the owners
  again every day. Incremental by (owner, day); the hooks in macros/owner_periods.sql choose and delete
  the rows to recompute first: every owner on the days with facts loaded since the last build, the
  owners a fact rewritten without a load can count for on its day, and every day of an owner whose
  scope changed.
#}
-- depends_on: {{ ref('int_customer_records_resolved') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ owner_days_rebuilt() }}", "{{ delete_owner_days_rebuilt() }}"],
        indexes=[{'columns': ['fact_day']}, {'columns': ['owner_id']}, {'columns': ['built_at']}],
    )
}}

with owners as (
    select * from {{ ref('dim_owner') }}
),

scopes as (
    select * from {{ ref('int_owner_scopes') }}
),

heads as (
    select owner_id from owners
    where role = 'head_of_service'
),

owner_queues as (
    select * from {{ ref('stg_ops__owner_queues') }}
),

owned_customers as (
    {{ owned_customers() }}
),

{% if is_incremental() %}
    -- What the pre-hooks chose to recompute: whole days for every owner, owners for every day, and
    -- owners on one day.
    rebuilt_days as (
        select fact_day as rebuilt_day from owner_days_rebuilt
        where owner_id is null
    ),

    rebuilt_owners as (
        select owner_id from owner_days_rebuilt
        where fact_day is null
    ),

    rebuilt_owner_days as (
        select
            owner_id,
            fact_day as rebuilt_day
        from owner_days_rebuilt
        where owner_id is not null and fact_day is not null
    ),
{% endif %}

contacts as (
    select
        contact_date,
        queue,
        channel,
        agent_id,
        customer_id,
        is_handled,
        is_abandoned,
        is_within_service_level,
        answer_seconds,
        handle_seconds,
        is_followed_by_repeat,
        is_complaint,
        is_first_contact_resolution
    from ({{ owner_facts_rebuilt(ref('fct_contact'), 'contact_date', 'f.is_offered') }}) as f
),

responses as (
    select
        response_date,
        contact_queue,
        customer_id,
        survey_type,
        is_csat_satisfied,
        is_promoter,
        is_detractor,
        score
    from ({{ owner_facts_rebuilt(ref('fct_survey_response'), 'response_date') }}) as f
),

delivered_orders as (
    select
        promised_date,
        customer_id,
        is_on_time
    from (
        {{ owner_facts_rebuilt(ref('fct_order'), 'promised_date', 'f.is_delivered and f.promised_date is not null') }}
    ) as f
),

-- One row per contact_centre_daily cell (day, queue, channel, agent) and customer: a customer in
-- several owners' scopes is grouped once here, not once per owner. Its flags say whether the customer
-- counts among the cell's distinct customers handled and resolved first time, so an owner's day adds
-- those up with no count(distinct) over all its contacts.
contact_cells as (
    select
        contact_date,
        queue,
        channel,
        agent_id,
        customer_id,
        {{ contact_counts() }},
        customer_id is not null and bool_or(is_handled) as is_customer_handled,
        customer_id is not null and bool_or(is_first_contact_resolution) as is_customer_resolved_first_contact
    from contacts
    group by contact_date, queue, channel, agent_id, customer_id
),

scoped_contacts as (
    select
        h.owner_id,
        c.*
    from heads as h
    cross join contact_cells as c
    where {{ in_owner_periods_rebuilt('h.owner_id', 'c.contact_date') }}
    union all
    select
        q.owner_id,
        c.*
    from owner_queues as q
    inner join contact_cells as c on q.queue = c.queue
    where {{ in_owner_periods_rebuilt('q.owner_id', 'c.contact_date') }}
    union all
    select
        o.owner_id,
        c.*
    from owned_customers as o
    inner join contact_cells as c on o.customer_id = c.customer_id
    where {{ in_owner_periods_rebuilt('o.owner_id', 'c.contact_date') }}
),

contact_days as (
    select
        owner_id,
        contact_date as fact_day,
        sum(contacts_offered) as contacts_offered,
        sum(contacts_handled) as contacts_handled,
        sum(contacts_abandoned) as contacts_abandoned,
        sum(contacts_within_service_level) as contacts_within_service_level,
        sum(total_answer_seconds) as total_answer_seconds,
        sum(total_handle_seconds) as total_handle_seconds,
        sum(contacts_followed_by_repeat) as contacts_followed_by_repeat,
        sum(complaints) as complaints,
        -- numeric, as the sums of counts above
        count(*) filter (where is_customer_handled)::numeric as customers_handled,
        count(*) filter (where is_customer_resolved_first_contact)::numeric as customers_resolved_first_contact
    from scoped_contacts
    group by owner_id, contact_date
),

scoped_responses as (
    select
        h.owner_id,
        r.*
    from heads as h
    cross join responses as r
    where {{ in_owner_periods_rebuilt('h.owner_id', 'r.response_date') }}
    union all
    select
        q.owner_id,
        r.*
    from owner_queues as q
    inner join responses as r on q.queue = r.contact_queue
    where {{ in_owner_periods_rebuilt('q.owner_id', 'r.response_date') }}
    union all
    select
        o.owner_id,
        r.*
    from owned_customers as o
    inner join responses as r on o.customer_id = r.customer_id
    where {{ in_owner_periods_rebuilt('o.owner_id', 'r.response_date') }}
),

survey_days as (
    select
        owner_id,
        response_date as fact_day,
        count(*) filter (where survey_type = 'csat') as csat_responses,
        count(*) filter (where is_csat_satisfied) as csat_satisfied,
        count(*) filter (where survey_type = 'nps') as nps_responses,
        count(*) filter (where is_promoter) as promoters,
        count(*) filter (where is_detractor) as detractors,
        count(*) filter (where survey_type = 'ces') as ces_responses,
        sum(score) filter (where survey_type = 'ces') as ces_score_total
    from scoped_responses
    group by owner_id, response_date
),

scoped_orders as (
    select
        h.owner_id,
        o.*
    from heads as h
    cross join delivered_orders as o
    where {{ in_owner_periods_rebuilt('h.owner_id', 'o.promised_date') }}
    union all
    select
        c.owner_id,
        o.*
    from owned_customers as c
    inner join delivered_orders as o on c.customer_id = o.customer_id
    where {{ in_owner_periods_rebuilt('c.owner_id', 'o.promised_date') }}
),

delivery_days as (
    select
        owner_id,
        promised_date as fact_day,
        count(*) as delivered,
        count(*) filter (where is_on_time) as on_time
    from scoped_orders
    group by owner_id, promised_date
),

owner_days as (
    select
        owner_id,
        fact_day
    from contact_days
    union
    select
        owner_id,
        fact_day
    from survey_days
    union
    select
        owner_id,
        fact_day
    from delivery_days
),

final as (
    select
        k.owner_id,
        k.fact_day,
        s.scope_hash,
        c.contacts_offered,
        c.contacts_handled,
        c.contacts_abandoned,
        c.contacts_within_service_level,
        c.total_answer_seconds,
        c.total_handle_seconds,
        c.contacts_followed_by_repeat,
        c.complaints,
        c.customers_handled,
        c.customers_resolved_first_contact,
        r.csat_responses,
        r.csat_satisfied,
        r.nps_responses,
        r.promoters,
        r.detractors,
        r.ces_responses,
        r.ces_score_total,
        d.delivered,
        d.on_time,
        {{ built_at() }}
    from owner_days as k
    left join contact_days as c on k.owner_id = c.owner_id and k.fact_day = c.fact_day
    left join survey_days as r on k.owner_id = r.owner_id and k.fact_day = r.fact_day
    left join delivery_days as d on k.owner_id = d.owner_id and k.fact_day = d.fact_day
    left join scopes as s on k.owner_id = s.owner_id
)

select * from final
