{# The final select of the action signals: each signal of the CTE `signals` (action_key, action_type,
   customer_id, theme_id, promise_id, evidence, signal_at, is_active, cleared_because) with its owner and
   due date under its rule in ops.action_rule (INSIGHT_HUB_ACTIONS). A signal whose type has no rule is
   left out. The owner: the customer's relationship owner when the rule says account_owner (and the
   customer has one), else the lead of the function the rule names (by promise for charter_broken, the
   theme's function for theme_owner), else the service lead. #}
{% macro signals_with_owners(signals) -%}
    select
        s.action_key,
        s.action_type,
        s.customer_id,
        s.theme_id,
        s.promise_id,
        s.evidence,
        coalesce(
            case when r.owner_rule = 'account_owner' then c.owner_id end,
            fl.owner_id,
            service.owner_id
        ) as owner_id,
        s.signal_at,
        s.signal_at + interval '1 day' * r.due_within_days as due_at,
        s.is_active,
        s.cleared_because
    from {{ signals }} as s
    inner join {{ ref('stg_ops__action_rules') }} as r on s.action_type = r.action_type
    left join {{ ref('dim_customer') }} as c on s.customer_id = c.customer_id
    left join (
        select distinct
            theme_id,
            owner_function
        from {{ ref('stg_ops__theme_keywords') }}
    ) as t on s.theme_id = t.theme_id
    left join {{ ref('stg_ops__function_leads') }} as fl
        on fl.function_name = case
            when r.owner_rule = 'theme_owner' then t.owner_function
            when r.owner_rule <> 'account_owner' then coalesce(r.owner_by_promise ->> s.promise_id, r.owner_rule)
        end
    left join {{ ref('stg_ops__function_leads') }} as service on service.function_name = 'service'
{%- endmacro %}
