{#
  Keyed hash of a personal value: HMAC-SHA256 with the product's secret key, whose RFC 2104 pads
  the prepare step stores in ops.pii_key (see plugins/insight_hub/warehouse/access.py). A BI user
  can join and count on it, but cannot reverse it or recompute it from a guessed e-mail.
#}
{% macro keyed_hash(expression) -%}
    case when {{ expression }} is not null then encode(sha256(
        (select opad from ops.pii_key) || sha256((select ipad from ops.pii_key) || convert_to({{ expression }}, 'UTF8'))
    ), 'hex') end
{%- endmacro %}

{# j***@example.com: the first character and the domain. #}
{% macro mask_email(expression) -%}
    case when {{ expression }} like '%@%'
        then left({{ expression }}, 1) || '***@' || split_part({{ expression }}, '@', 2)
    end
{%- endmacro %}

{# +44*******123: the country code and the last three digits. #}
{% macro mask_phone(expression) -%}
    case when {{ expression }} is not null
        then left({{ expression }}, 3) || repeat('*', greatest(length({{ expression }}) - 6, 0)) || right({{ expression }}, 3)
    end
{%- endmacro %}

{# Free text with e-mail addresses and runs of digits (phone numbers, card numbers) masked. #}
{% macro mask_free_text(expression) -%}
    regexp_replace(
        regexp_replace({{ expression }}, '[^[:space:]@]+@[^[:space:]@]+', '[e-mail]', 'g'),
        '[0-9][0-9 ()+-]{4,}[0-9]', '[number]', 'g'
    )
{%- endmacro %}
