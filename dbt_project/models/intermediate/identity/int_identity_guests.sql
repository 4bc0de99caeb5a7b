{{
    config(
        materialized='incremental',
        unique_key=['key_type', 'key_value'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['key_type', 'key_value'], 'unique': True},
            {'columns': ['built_at']},
        ],
    )
}}
{#
  The guest each current key belongs to, with stable ids. A component takes the id of its
  earliest-registered key. If evidence is gone and one old guest now falls into two components,
  the component holding the earliest key keeps the id and the other takes its own component id.
  Incremental like int_identity_crm_keys: the guests are computed whole (a few keys beside the
  records), but a row is written only for a key that is new or whose guest changed, and a key that is
  no longer a guest's stays with no customer_id. built_at then tells int_customer_records_resolved
  which keys changed, so it resolves again only the records carrying them.
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
),

changed as (
    select f.*
    from final as f
    {% if is_incremental() %}
        left join {{ this }} as t on f.key_type = t.key_type and f.key_value = t.key_value
        where
            t.key_value is null
            or t.customer_id is distinct from f.customer_id
            or t.registered_id is distinct from f.registered_id
            or t.claimed_id is distinct from f.claimed_id
        union all
        select
            t.key_type,
            t.key_value,
            null::text as registered_id,
            null::text as claimed_id,
            null::text as customer_id
        from {{ this }} as t
        where
            t.customer_id is not null
            and not exists (
                select 1 from final as f
                where f.key_type = t.key_type and f.key_value = t.key_value
            )
    {% endif %}
)

select
    *,
    {{ built_at() }}
from changed
