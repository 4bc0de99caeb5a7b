{#
  Owners are the business's own staff (relationship owners, team leads); their work e-mail is how
  manager extracts reach them. No customer data here.
#}
with owners as (
    select * from {{ ref('stg_crm__owners') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

owned as (
    select
        owner_id,
        count(*) as accounts_owned
    from accounts
    where owner_id is not null
    group by owner_id
),

final as (
    select
        o.owner_id,
        o.owner_name,
        o.owner_email,
        o.role,
        o.manager_id,
        coalesce(w.accounts_owned, 0) as accounts_owned
    from owners as o
    left join owned as w on o.owner_id = w.owner_id
)

select * from final
