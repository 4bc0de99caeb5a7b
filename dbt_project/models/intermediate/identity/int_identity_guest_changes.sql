{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false) }}
{#
  The log of guest merges and splits, one row per change the first time a build sees it.
  merge: keys registered under other_id now belong to customer_id (two guests were one person).
  split: part of guest other_id is no longer linked to the rest and became customer_id.
#}
with guests as (
    select * from {{ ref('int_identity_guests') }}
    where customer_id is not null
),

changes as (
    select distinct
        'merge' as change_type,
        customer_id,
        registered_id as other_id
    from guests
    where registered_id <> customer_id and claimed_id = customer_id
    union
    select distinct
        'split' as change_type,
        customer_id,
        claimed_id as other_id
    from guests
    where claimed_id <> customer_id
),

final as (
    select
        c.change_type,
        c.customer_id,
        c.other_id,
        now() as detected_at
    from changes as c
    {% if is_incremental() %}
        where not exists (
            select 1 from {{ this }} as t
            where t.change_type = c.change_type and t.customer_id = c.customer_id and t.other_id = c.other_id
        )
    {% endif %}
)

select * from final
