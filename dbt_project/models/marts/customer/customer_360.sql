with accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

resolved as (
    select * from {{ ref('int_customer_records_resolved') }}
    where customer_id is not null
),

interactions as (
    select * from {{ ref('stg_contact_centre__interactions') }}
),

responses as (
    select * from {{ ref('stg_survey__responses') }}
),

orders as (
    select * from {{ ref('stg_sales__orders') }}
),

contact_summary as (
    select
        r.customer_id,
        count(*) as contacts,
        count(*) filter (where i.answered_at is not null) as contacts_handled,
        count(*) filter (where i.is_complaint) as complaints,
        max(i.queued_at) as last_contact_at
    from interactions as i
    inner join resolved as r on r.record_type = 'interaction' and i.interaction_id = r.record_id
    group by r.customer_id
),

order_summary as (
    select
        r.customer_id,
        count(*) as orders,
        count(*) filter (where o.status = 'completed') as completed_orders,
        coalesce(sum(o.order_total) filter (where o.status = 'completed'), 0) as revenue_to_date,
        max(o.ordered_at) as last_order_at
    from orders as o
    inner join resolved as r on r.record_type = 'order' and o.order_id = r.record_id
    group by r.customer_id
),

survey_scored as (
    select
        r.customer_id,
        s.survey_type,
        s.score,
        s.submitted_at,
        row_number() over (partition by r.customer_id, s.survey_type order by s.submitted_at desc) as recency
    from responses as s
    inner join resolved as r on r.record_type = 'response' and s.response_id = r.record_id
),

survey_summary as (
    select
        customer_id,
        count(*) as survey_responses,
        -- CSAT as KPIS.md defines it: share of CSAT responses scoring 4 or 5, in percent.
        round(100.0 * avg(case when score >= 4 then 1.0 else 0.0 end) filter (where survey_type = 'csat'), 1)
            as csat_pct,
        max(score) filter (where survey_type = 'csat' and recency = 1) as last_csat_score,
        max(score) filter (where survey_type = 'nps' and recency = 1) as last_nps_score
    from survey_scored
    group by customer_id
),

final as (
    select
        a.account_id as customer_id,
        a.segment,
        a.region,
        a.owner_id,
        a.created_at as customer_since,
        coalesce(c.contacts, 0) as contacts,
        coalesce(c.contacts_handled, 0) as contacts_handled,
        coalesce(c.complaints, 0) as complaints,
        c.last_contact_at,
        coalesce(o.orders, 0) as orders,
        coalesce(o.completed_orders, 0) as completed_orders,
        coalesce(o.revenue_to_date, 0) as revenue_to_date,
        o.last_order_at,
        coalesce(s.survey_responses, 0) as survey_responses,
        s.csat_pct,
        s.last_csat_score,
        s.last_nps_score
    from accounts as a
    left join contact_summary as c on a.account_id = c.customer_id
    left join order_summary as o on a.account_id = o.customer_id
    left join survey_summary as s on a.account_id = s.customer_id
)

select * from final
