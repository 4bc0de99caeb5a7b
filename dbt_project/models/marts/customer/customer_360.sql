{#
  One row per customer: value, contact history, survey results, cost to serve, health and churn
  risk, and owner. Everything is "as of" the newest day of data in the hub (as_of_date), so a
  replay of old data is scored as of its own time.

  Health score, 0-100, a weighted blend (weights in var health_weights):
    recency 25 %    100 when the last order or contact is within 30 days, falling linearly to 0 at 180
    value trend 20 % net revenue in the last 90 days vs the 90 before: 50 x recent / previous, capped
                     at 100; 100 for a new buyer, 50 with no revenue in either period
    sentiment 25 %  the latest survey on a 0-100 scale (CSAT (s-1)/4, NPS s/10, CES (s-1)/6); 50 without one
    complaints 15 % complaints in the last 30 days: none 100, one 50, more 0
    repeats 15 %    repeat contacts in the last 30 days: none 100, one 50, more 0
  Churn-risk band: high below 40, medium below 70, low from 70.
#}
{#- A relationship owner's extract lists their customers at risk by this index. #}
{{ config(indexes=[{'columns': ['owner_id']}]) }}
with customers as (
    select * from {{ ref('dim_customer') }}
),

owners as (
    select * from {{ ref('dim_owner') }}
),

contacts as (
    select * from {{ ref('fct_contact') }}
    where customer_id is not null
),

orders as (
    select * from {{ ref('fct_order') }}
    where customer_id is not null
),

responses as (
    select * from {{ ref('fct_survey_response') }}
    where customer_id is not null
),

as_of as (
    select
        greatest(
            (select max(contact_date) from {{ ref('fct_contact') }}),
            (select max(order_date) from {{ ref('fct_order') }}),
            (select max(response_date) from {{ ref('fct_survey_response') }})
        ) as as_of_date
),

contact_summary as (
    select
        c.customer_id,
        count(*) filter (where c.is_offered) as contacts,
        count(*) filter (where c.is_handled) as contacts_handled,
        count(*) filter (where c.is_complaint) as complaints,
        count(*) filter (where c.is_complaint and c.contact_date > a.as_of_date - 30) as complaints_last_30_days,
        count(*) filter (where c.is_followed_by_repeat and c.contact_date > a.as_of_date - 30)
            as repeat_contacts_last_30_days,
        coalesce(sum(c.agent_cost), 0) as cost_to_serve,
        max(c.contact_date) as last_contact_date
    from contacts as c
    cross join as_of as a
    group by c.customer_id
),

order_summary as (
    select
        o.customer_id,
        count(*) as orders,
        count(*) filter (where o.status = 'completed') as completed_orders,
        sum(o.net_revenue) as value_to_date,
        coalesce(sum(o.net_revenue) filter (where o.order_date > a.as_of_date - 90), 0) as revenue_last_90_days,
        coalesce(sum(o.net_revenue) filter (
            where o.order_date > a.as_of_date - 180 and o.order_date <= a.as_of_date - 90
        ), 0) as revenue_previous_90_days,
        max(o.order_date) as last_order_date
    from orders as o
    cross join as_of as a
    group by o.customer_id
),

survey_ranked as (
    select
        *,
        row_number() over (partition by customer_id, survey_type order by submitted_at desc) as recency_by_type,
        row_number() over (partition by customer_id order by submitted_at desc) as recency
    from responses
),

survey_summary as (
    select
        customer_id,
        count(*) as survey_responses,
        max(score) filter (where survey_type = 'csat' and recency_by_type = 1) as last_csat_score,
        round(avg(score) filter (where survey_type = 'csat'), 2) as average_csat_score,
        max(score) filter (where survey_type = 'nps' and recency_by_type = 1) as last_nps_score,
        round(avg(score) filter (where survey_type = 'nps'), 2) as average_nps_score,
        max(
            case survey_type
                when 'csat' then (score - 1) * 100.0 / 4
                when 'nps' then score * 10.0
                when 'ces' then (score - 1) * 100.0 / 6
            end
        ) filter (where recency = 1) as latest_sentiment
    from survey_ranked
    group by customer_id
),

joined as (
    select
        cu.customer_id,
        cu.segment,
        cu.region,
        cu.owner_id,
        ow.owner_name,
        cu.customer_since,
        a.as_of_date,
        coalesce(o.value_to_date, 0) as value_to_date,
        coalesce(o.orders, 0) as orders,
        coalesce(o.completed_orders, 0) as completed_orders,
        o.last_order_date,
        coalesce(c.contacts, 0) as contacts,
        coalesce(c.contacts_handled, 0) as contacts_handled,
        coalesce(c.complaints, 0) as complaints,
        c.last_contact_date,
        coalesce(s.survey_responses, 0) as survey_responses,
        s.last_csat_score,
        s.average_csat_score,
        s.last_nps_score,
        s.average_nps_score,
        coalesce(c.cost_to_serve, 0) as cost_to_serve,
        a.as_of_date - c.last_contact_date as days_since_last_contact,
        a.as_of_date - o.last_order_date as days_since_last_order,
        a.as_of_date - greatest(c.last_contact_date, o.last_order_date) as days_since_last_activity,
        coalesce(o.revenue_last_90_days, 0) as revenue_last_90_days,
        coalesce(o.revenue_previous_90_days, 0) as revenue_previous_90_days,
        s.latest_sentiment,
        coalesce(c.complaints_last_30_days, 0) as complaints_last_30_days,
        coalesce(c.repeat_contacts_last_30_days, 0) as repeat_contacts_last_30_days
    from customers as cu
    cross join as_of as a
    left join owners as ow on cu.owner_id = ow.owner_id
    left join contact_summary as c on cu.customer_id = c.customer_id
    left join order_summary as o on cu.customer_id = o.customer_id
    left join survey_summary as s on cu.customer_id = s.customer_id
),

components as (
    select
        *,
        -- greatest() and least() skip nulls: a customer with no activity must score 0, not 100.
        case
            when days_since_last_activity is null then 0
            else round(greatest(0, least(100, 100.0 * (180 - days_since_last_activity) / 150)), 1)
        end as recency_score,
        case
            when revenue_previous_90_days = 0 and revenue_last_90_days = 0 then 50
            when revenue_previous_90_days = 0 then 100
            else round(least(100, 50.0 * revenue_last_90_days / revenue_previous_90_days), 1)
        end as value_trend_score,
        round(coalesce(latest_sentiment, 50), 1) as sentiment_score,
        case when complaints_last_30_days = 0 then 100 when complaints_last_30_days = 1 then 50 else 0 end
            as complaint_score,
        case when repeat_contacts_last_30_days = 0 then 100 when repeat_contacts_last_30_days = 1 then 50 else 0 end
            as repeat_score
    from joined
),

weights as (
    select
        (w ->> 'recency')::numeric as recency,
        (w ->> 'value_trend')::numeric as value_trend,
        (w ->> 'sentiment')::numeric as sentiment,
        (w ->> 'complaints')::numeric as complaints,
        (w ->> 'repeats')::numeric as repeats
    from (select '{{ var("health_weights") | tojson }}'::jsonb as w) as v
),

scored as (
    select
        c.*,
        round(
            w.recency * c.recency_score
            + w.value_trend * c.value_trend_score
            + w.sentiment * c.sentiment_score
            + w.complaints * c.complaint_score
            + w.repeats * c.repeat_score,
            1
        ) as health_score
    from components as c
    cross join weights as w
),

final as (
    select
        customer_id,
        segment,
        region,
        owner_id,
        owner_name,
        customer_since,
        as_of_date,
        value_to_date,
        orders,
        completed_orders,
        last_order_date,
        days_since_last_order,
        contacts,
        contacts_handled,
        complaints,
        last_contact_date,
        days_since_last_contact,
        survey_responses,
        last_csat_score,
        average_csat_score,
        last_nps_score,
        average_nps_score,
        cost_to_serve,
        recency_score,
        value_trend_score,
        sentiment_score,
        complaint_score,
        repeat_score,
        health_score,
        case when health_score < 40 then 'high' when health_score < 70 then 'medium' else 'low' end
            as churn_risk_band
    from scored
)

select * from final
