{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false) }}
{#
  Every guest key ever seen, with the guest id it was first given; rows are only ever added.
  A new key joins the id of its component's earliest-registered key, or, in a component of new
  keys only, the component's own id. So a guest keeps its id when new records bring new keys, and
  when two guests turn out to be one, the older id survives (int_identity_guest_changes logs it).
  `dbt build --full-refresh` keeps it (full_refresh=false): ids handed out stay handed out.
#}
with components as (
    select * from {{ ref('int_identity_guest_keys') }}
),

known as (
    {% if is_incremental() %}
        select * from {{ this }}
    {% else %}
        select
            null::text as key_type,
            null::text as key_value,
            null::text as guest_id,
            null::timestamptz as first_seen_at
        where false
    {% endif %}
),

component_ids as (
    select
        c.component_id,
        coalesce(
            (array_agg(k.guest_id order by k.first_seen_at, k.guest_id) filter (where k.guest_id is not null))[1],
            c.component_id
        ) as guest_id
    from components as c
    left join known as k on c.key_type = k.key_type and c.key_value = k.key_value
    group by c.component_id
),

final as (
    select
        c.key_type,
        c.key_value,
        i.guest_id,
        now() as first_seen_at
    from components as c
    inner join component_ids as i on c.component_id = i.component_id
    where not exists (
        select 1 from known as k
        where k.key_type = c.key_type and k.key_value = c.key_value
    )
)

select * from final
