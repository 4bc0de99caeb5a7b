{# The hub's as-of date: the newest day of contact, order or survey data. int_customer_lifetime counts
   its 30, 90 and 180-day windows back from it, customer_360 its "days since". Each max() reads one
   entry of the fact's date index. #}
{% macro hub_as_of_date() -%}
    greatest(
        (select max(contact_date) from {{ ref('fct_contact') }}),
        (select max(order_date) from {{ ref('fct_order') }}),
        (select max(response_date) from {{ ref('fct_survey_response') }})
    )
{%- endmacro %}

{# For an incremental model that counts 30, 90 and 180-day windows back from the as-of date
   (int_customer_lifetime): the as-of date its stored rows were counted to and the hub's as-of date now,
   as date literals read when the model runs; none on a full build, while the table is empty, or with no
   fact at all. The stored rows were counted to the date the newest build wrote (window_end_date of its
   rows, all alike), not to the latest date any row carries: a row a build does not rewrite keeps its
   date, and after the as-of date moved back the rows nothing made that build rewrite still carry the
   later one. #}
{% macro window_ends() -%}
    {%- if not (execute and is_incremental()) -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set previous = newest_value(
        this, 'window_end_date', where='previous.built_at = (select max(b.built_at) from ' ~ this ~ ' as b)'
    ) -%}
    {%- set now = run_query('select (' ~ hub_as_of_date() ~ ')::text').columns[0].values()[0] -%}
    {%- if previous is none or now is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return({'previous': previous, 'now': "'" ~ now ~ "'::date"}) -%}
{%- endmacro %}

{# Post-hook of an incremental model with one row per customer: delete the rows of customers who are no
   longer one, neither a CRM key (`relation`.`key`) nor a guest's id. A guest whose e-mail or phone now
   belongs to an account ends so; a full refresh would not write them. #}
{% macro delete_departed_customers(relation, key) -%}
    delete from {{ this }} as t
    where
        not exists (select 1 from {{ relation }} as p where p.{{ key }} = t.customer_id)
        and not exists (select 1 from {{ ref('int_identity_guests') }} as g where g.customer_id = t.customer_id)
{%- endmacro %}
