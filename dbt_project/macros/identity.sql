{# int_identity_crm_keys' high-water marks for an incremental build: the newest raw account and contact
   the table's rows were computed from, as literals ({'account': ..., 'contact': ...}); none when the
   key map is to be computed whole: a first or full build, a table built before the marks were kept,
   and an erasure (ops.erasure) since the table's newest row. #}
{% macro crm_keys_high_water() -%}
    {%- if not (execute and is_incremental()) -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    {%- if 'account_loaded_at' not in columns or 'contact_loaded_at' not in columns -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set erased -%}
        select exists (
            select 1 from {{ source('ops', 'erasure') }} as e
            where e.requested_at > (select max(t.built_at) from {{ this }} as t)
        )
    {%- endset -%}
    {%- if run_query(erased).columns[0].values()[0] -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set account = newest_value(this, 'account_loaded_at') -%}
    {%- set contact = newest_value(this, 'contact_loaded_at') -%}
    {%- if account is none or contact is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return({'account': account, 'contact': contact}) -%}
{%- endmacro %}
