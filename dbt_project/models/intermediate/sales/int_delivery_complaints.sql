{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['interaction_id'], 'unique': True},
            {'columns': ['order_id']},
            {'columns': ['built_at']},
        ],
        pre_hook=["{{ delivery_complaints_rebuilt() }}", "{{ delete_delivery_complaints_rebuilt() }}"],
    )
}}
{#
  Each delivery complaint with the order and delivery partner it counts against in
  delivery_partner_performance: a complaint whose reason is one of var delivery_reasons counts against
  the partner of its customer's latest order placed within var delivery_complaint_window_days before
  it, in that order's delivery month (of its promised date, or of the order date when none was
  promised). A complaint with no such order has no row.

  Incremental: a build attributes again the complaints whose contact, or whose attributed or
  possibly latest order, the facts rewrote since its last build (delivery_complaints_rebuilt in
  macros/delivery_complaints.sql); the pre-hooks delete their rows, and the new rows are appended (a
  complaint written twice would fail the build on the unique index). When the vars change
  (rules_fingerprint), every complaint is attributed again. delivery_partner_performance then counts
  these rows instead of looking up every complaint's order of the history on every build.
#}
{%- set incremental = is_incremental() and not delivery_attribution_changed() %}
with contacts as not materialized (
    select * from {{ ref('fct_contact') }}
    where
        is_complaint
        and customer_id is not null
        and reason in (select jsonb_array_elements_text('{{ var("delivery_reasons") | tojson }}'::jsonb))
        {%- if incremental %}
            and interaction_id = any(array(select r.interaction_id from delivery_complaints_rebuilt as r))
        {%- endif %}
),

orders as not materialized (
    select * from {{ ref('fct_order') }}
    where delivery_partner is not null
),

-- Each complaint's latest order, looked up by fct_order's (customer_id, ordered_at) index: a
-- complaint reads one or two of its customer's orders, not every order of the history.
attributed as (
    select
        c.interaction_id,
        c.customer_id,
        c.queued_at,
        o.order_id,
        o.delivery_partner,
        date_trunc('month', coalesce(o.promised_date, o.order_date))::date as delivery_month
    from contacts as c
    cross join lateral (
        select
            latest.order_id,
            latest.delivery_partner,
            latest.promised_date,
            latest.order_date
        from orders as latest
        where
            latest.customer_id = c.customer_id
            and latest.ordered_at <= c.queued_at
            and latest.ordered_at > c.queued_at - interval '1 day' * {{ var('delivery_complaint_window_days') }}
        order by latest.ordered_at desc, latest.order_id desc
        limit 1
    ) as o
),

final as (
    select
        *,
        {{ delivery_attribution_fingerprint() }} as rules_fingerprint,
        {{ built_at() }}
    from attributed
)

select * from final
