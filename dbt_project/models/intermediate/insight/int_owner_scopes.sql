{#
  One row per manager: a fingerprint of what their scope in manager_kpis is made of (their role, the
  queues they lead and the customers whose accounts they own). An incremental build of manager_kpis
  recomputes every period of a manager whose fingerprint changed, and only the changed periods of the
  others.
#}
with owners as (
    select * from {{ ref('dim_owner') }}
),

owner_queues as (
    select * from {{ ref('stg_ops__owner_queues') }}
),

owned_customers as (
    {{ owned_customers() }}
),

queues_led as (
    select
        owner_id,
        string_agg(queue, ',' order by queue) as queues
    from owner_queues
    group by owner_id
),

customers_owned as (
    select
        owner_id,
        string_agg(customer_id, ',' order by customer_id) as customers
    from owned_customers
    group by owner_id
),

scoped_owners as (
    select owner_id from owners
    union
    select owner_id from queues_led
    union
    select owner_id from customers_owned
),

final as (
    select
        s.owner_id,
        md5(
            coalesce(o.role, '') || '|' || coalesce(q.queues, '') || '|' || coalesce(c.customers, '')
        ) as scope_hash
    from scoped_owners as s
    left join owners as o on s.owner_id = o.owner_id
    left join queues_led as q on s.owner_id = q.owner_id
    left join customers_owned as c on s.owner_id = c.owner_id
)

select * from final
