{{
    config(
        materialized='incremental',
        unique_key='customer_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['customer_id'], 'unique': True},
            {'columns': ['owner_id']},
        ],
        post_hook=[
            "delete from {{ this }} as p where not exists
                (select 1 from {{ ref('dim_customer') }} as d where d.customer_id = p.customer_id)",
        ],
    )
}}
{#
  One row per customer (dim_customer): the CRM record, the owner's name and the figures of
  int_customer_lifetime, which is everything customer_360 shows but what moves with the calendar alone.
  customer_360 is a view over this table that adds the days since and the scores when read.

  A table of its own rather than customer_360 reading dim_customer directly: dbt rebuilds dim_customer
  and dim_owner by swapping in a new table and dropping the old one with its dependent views, so a view
  over them would vanish for BI tools for much of every build. This table is only ever changed in place.

  Incremental: a build rewrites the customers whose CRM record or owner's name changed, or whose lifetime
  row was rewritten or removed (lifetime_built_at), and removes those no longer in dim_customer
  (post-hook).
#}
with customers as (
    select
        cu.customer_id,
        cu.segment,
        cu.region,
        cu.owner_id,
        ow.owner_name,
        cu.customer_since,
        coalesce(l.value_to_date, 0) as value_to_date,
        coalesce(l.orders, 0) as orders,
        coalesce(l.completed_orders, 0) as completed_orders,
        l.last_order_date,
        coalesce(l.contacts, 0) as contacts,
        coalesce(l.contacts_handled, 0) as contacts_handled,
        coalesce(l.complaints, 0) as complaints,
        l.last_contact_date,
        coalesce(l.survey_responses, 0) as survey_responses,
        l.last_csat_score,
        l.average_csat_score,
        l.last_nps_score,
        l.average_nps_score,
        l.latest_sentiment,
        coalesce(l.cost_to_serve, 0) as cost_to_serve,
        coalesce(l.revenue_last_90_days, 0) as revenue_last_90_days,
        coalesce(l.revenue_previous_90_days, 0) as revenue_previous_90_days,
        coalesce(l.complaints_last_30_days, 0) as complaints_last_30_days,
        coalesce(l.repeat_contacts_last_30_days, 0) as repeat_contacts_last_30_days,
        l.built_at as lifetime_built_at
    from {{ ref('dim_customer') }} as cu
    left join {{ ref('dim_owner') }} as ow on cu.owner_id = ow.owner_id
    left join {{ ref('int_customer_lifetime') }} as l on cu.customer_id = l.customer_id
),

final as (
    select
        c.*,
        {{ built_at() }}
    from customers as c
    {% if is_incremental() %}
        where not exists (
            select 1 from {{ this }} as p
            where
                p.customer_id = c.customer_id
                and (p.segment, p.region, p.owner_id, p.owner_name, p.customer_since, p.lifetime_built_at)
                is not distinct from
                (c.segment, c.region, c.owner_id, c.owner_name, c.customer_since, c.lifetime_built_at)
        )
    {% endif %}
)

select * from final
