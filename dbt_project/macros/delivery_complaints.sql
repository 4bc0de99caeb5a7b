{# What decides a delivery complaint's attribution besides the facts: the contact reasons that are about
   delivery and the window in which the latest order counts (dbt vars delivery_reasons,
   delivery_complaint_window_days), as one md5 (SQL). A build that finds another in
   int_delivery_complaints attributes every complaint again. #}
{% macro delivery_attribution_fingerprint() -%}
    md5('{{ var("delivery_reasons") | tojson }}|{{ var("delivery_complaint_window_days") }}')
{%- endmacro %}

{# In int_delivery_complaints' incremental build: whether its rows were attributed under other vars (or
   there are none), so that every complaint is attributed again. #}
{% macro delivery_attribution_changed() -%}
    {%- do return(rules_fingerprint_changed(delivery_attribution_fingerprint())) -%}
{%- endmacro %}

{# int_delivery_complaints' pre-hooks. The complaints a build attributes again, as the temporary table
   delivery_complaints_rebuilt (interaction_id):
   - every contact fct_contact wrote since this model's last build: its customer, reason or time may
     have changed (one that is no longer a delivery complaint loses its row);
   - the complaints attributed to an order fct_order wrote since then: the order's old version may have
     had another customer, partner, time or promised date;
   - the complaints an order written since then may now be the latest order before: its customer's
     complaints in the window after it.
   Each part is found by an index (built_at; this model's order_id; fct_contact's customer_id). #}
{% macro delivery_complaints_rebuilt() -%}
    {%- if is_incremental() and not delivery_attribution_changed() %}
        {%- set since = high_water('built_at') %}
        create temporary table delivery_complaints_rebuilt on commit drop as
        with orders_written as (
            select
                o.order_id,
                o.customer_id,
                o.ordered_at
            from {{ ref('fct_order') }} as o
            where o.built_at > {{ since }}
        )

        select c.interaction_id from {{ ref('fct_contact') }} as c
        where c.built_at > {{ since }}
        union
        select a.interaction_id from {{ this }} as a
        where a.order_id = any(array(select w.order_id from orders_written as w))
        union
        select c.interaction_id
        from orders_written as w
        inner join {{ ref('fct_contact') }} as c
            on
                w.customer_id = c.customer_id
                and c.queued_at >= w.ordered_at
                and c.queued_at < w.ordered_at + interval '1 day' * {{ var('delivery_complaint_window_days') }}
        where c.is_complaint;
        analyze delivery_complaints_rebuilt
    {%- endif %}
{%- endmacro %}

{% macro delete_delivery_complaints_rebuilt() -%}
    {%- if is_incremental() and delivery_attribution_changed() %}
        delete from {{ this }}
    {%- elif is_incremental() %}
        delete from {{ this }} as t
        where t.interaction_id = any(array(select r.interaction_id from delivery_complaints_rebuilt as r))
    {%- endif %}
{%- endmacro %}
