{# E-mail as systems disagree on it: case and surrounding spaces carry no meaning. #}
{% macro normalize_email(column) -%}
    nullif(lower(btrim({{ column }})), '')
{%- endmacro %}

{# Phone numbers to E.164: digits only, then national (0...) and 00-prefixed forms rewritten
   with the default country code. Numbers that fit neither form are kept as +digits. #}
{% macro normalize_phone(column) -%}
    {%- set cc = var('default_phone_country_code') -%}
    case
        when nullif(regexp_replace({{ column }}, '[^0-9]', '', 'g'), '') is null then null
        when regexp_replace({{ column }}, '[^0-9]', '', 'g') like '00%'
            then '+' || substr(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 3)
        when btrim({{ column }}) like '+%'
            then '+' || regexp_replace({{ column }}, '[^0-9]', '', 'g')
        when regexp_replace({{ column }}, '[^0-9]', '', 'g') like '0%'
            then '+{{ cc }}' || substr(regexp_replace({{ column }}, '[^0-9]', '', 'g'), 2)
        else '+' || regexp_replace({{ column }}, '[^0-9]', '', 'g')
    end
{%- endmacro %}
