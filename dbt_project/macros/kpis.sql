{# The period KPIs of ../KPIS.md as formulas over summed daily totals: each entry is the kpi, its
   formula, the count it rests on, and the totals CTE (contact, survey or delivery) whose columns it
   reads. Rates are recomputed from the sums, never averaged. Used by int_charter_measures (the
   charter) and manager_kpis (each manager's scope), so both measure a KPI the same way. #}
{% macro period_kpi_formulas() -%}
    {{ return([
        ('service_level_pct', '100.0 * within_service_level / nullif(offered, 0)', 'offered', 'contact_totals'),
        ('abandonment_rate_pct', '100.0 * abandoned / nullif(offered, 0)', 'offered', 'contact_totals'),
        ('asa_seconds', 'answer_seconds::numeric / nullif(handled, 0)', 'handled', 'contact_totals'),
        ('aht_seconds', 'handle_seconds::numeric / nullif(handled, 0)', 'handled', 'contact_totals'),
        ('fcr_rate_pct', '100.0 * customers_resolved / nullif(customers_handled, 0)', 'customers_handled', 'contact_totals'),
        ('repeat_contact_rate_pct', '100.0 * repeats / nullif(handled, 0)', 'handled', 'contact_totals'),
        ('complaint_rate_pct', '100.0 * complaints / nullif(handled, 0)', 'handled', 'contact_totals'),
        ('csat_pct', '100.0 * csat_satisfied / nullif(csat_responses, 0)', 'csat_responses', 'survey_totals'),
        ('nps', '100.0 * (promoters - detractors) / nullif(nps_responses, 0)', 'nps_responses', 'survey_totals'),
        ('ces', '1.0 * ces_score_total / nullif(ces_responses, 0)', 'ces_responses', 'survey_totals'),
        ('on_time_rate_pct', '100.0 * on_time / nullif(delivered, 0)', 'delivered', 'delivery_totals'),
    ]) }}
{%- endmacro %}
