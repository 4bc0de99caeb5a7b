{#
  One row per day, queue, channel and agent (agent is null for abandoned contacts): every
  contact-centre KPI of KPIS.md. The sums beside each rate let a BI tool re-aggregate to any
  coarser grain (a rate of rates would be wrong). Occupancy needs agent state data, which no
  source provides yet, so it is not here.

  Incremental: a build recomputes the cells of the contacts fct_contact rebuilt since the last build, and
  the whole day of any of them loaded since (it may have left another cell); the pre-hooks in
  macros/contact_centre_cells.sql choose and delete them.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["{{ contact_cells_rebuilt() }}", "{{ delete_contact_cells_rebuilt() }}"],
        indexes=[{'columns': ['contact_date']}, {'columns': ['built_at']}],
    )
}}
with contacts as (
    select c.* from {{ ref('fct_contact') }} as c
    where
        c.is_offered
        {% if is_incremental() %}
            and c.contact_date in ({{ days_rebuilt(ref('fct_contact'), 'contact_date') }})
            and {{ in_contact_cells_rebuilt('c') }}
        {% endif %}
),

daily as (
    select
        contact_date,
        queue,
        channel,
        agent_id,
        {{ contact_counts() }},
        count(*) filter (where is_transferred) as contacts_transferred,
        count(distinct customer_id) filter (where is_handled) as customers_handled,
        count(distinct customer_id) filter (where is_first_contact_resolution) as customers_resolved_first_contact,
        sum(agent_cost) as agent_cost
    from contacts
    group by contact_date, queue, channel, agent_id
),

final as (
    select
        *,
        round(100.0 * contacts_abandoned / contacts_offered, 2) as abandonment_rate_pct,
        round(100.0 * contacts_within_service_level / contacts_offered, 2) as service_level_pct,
        round(total_answer_seconds::numeric / nullif(contacts_handled, 0), 2) as asa_seconds,
        round(total_handle_seconds::numeric / nullif(contacts_handled, 0), 2) as aht_seconds,
        round(100.0 * contacts_transferred / nullif(contacts_handled, 0), 2) as transfer_rate_pct,
        round(100.0 * contacts_followed_by_repeat / nullif(contacts_handled, 0), 2) as repeat_contact_rate_pct,
        round(100.0 * customers_resolved_first_contact / nullif(customers_handled, 0), 2) as fcr_rate_pct,
        round(100.0 * complaints / nullif(contacts_handled, 0), 2) as complaint_rate_pct,
        round(agent_cost / nullif(contacts_handled, 0), 2) as cost_per_contact,
        {{ built_at() }}
    from daily
)

select * from final
