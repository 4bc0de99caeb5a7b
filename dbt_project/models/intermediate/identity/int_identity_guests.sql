{#
  The guest each current key belongs to, with stable ids. A component takes the id of its
  earliest-registered key. If evidence is gone and one old guest now falls into two components,
  the component holding the earliest key keeps the id and the other takes its own component id.
#}
with components as (
    select * from {{ ref('int_identity_guest_keys') }}
),

registry as (
    select * from {{ ref('int_identity_guest_registry') }}
),

keyed as (
    select
        c.component_id,
        c.key_type,
        c.key_value,
        r.guest_id,
        r.first_seen_at
    from components as c
    inner join registry as r on c.key_type = r.key_type and c.key_value = r.key_value
),

claims as (
    select distinct on (component_id)
        component_id,
        guest_id as claimed_id,
        first_seen_at as claimed_since
    from keyed
    order by component_id asc, first_seen_at asc, guest_id asc, key_value asc
),

ranked as (
    select
        component_id,
        claimed_id,
        row_number() over (partition by claimed_id order by claimed_since, component_id) as claim_rank
    from claims
),

final as (
    select
        k.key_type,
        k.key_value,
        k.guest_id as registered_id,
        r.claimed_id,
        case when r.claim_rank = 1 then r.claimed_id else k.component_id end as customer_id
    from keyed as k
    inner join ranked as r on k.component_id = r.component_id
)

select * from final
