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

{# The counts of offered contacts (fct_contact rows with is_offered) that the contact-centre KPIs rest on,
   for a select grouped at contact_centre_daily's grain or finer. contact_centre_daily and
   int_owner_daily_counts (each manager's scope) both count with it, so a manager's figures and the
   daily KPIs count a contact the same way. #}
{% macro contact_counts() -%}
    count(*) as contacts_offered,
    count(*) filter (where is_handled) as contacts_handled,
    count(*) filter (where is_abandoned) as contacts_abandoned,
    count(*) filter (where is_within_service_level) as contacts_within_service_level,
    sum(answer_seconds) filter (where is_handled) as total_answer_seconds,
    sum(handle_seconds) filter (where is_handled) as total_handle_seconds,
    count(*) filter (where is_followed_by_repeat) as contacts_followed_by_repeat,
    count(*) filter (where is_complaint) as complaints
{%- endmacro %}
