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

{# int_identity_unmatched_keys' pre-hooks. A record's rows there depend on its match (int_identity_crm_matches),
   its e-mail and phone (int_identity_records) and whether the CRM knows those keys (int_identity_crm_keys);
   each of the three writes a row again, with a new built_at, exactly when that changes (a correction or an
   erasure of the record, a new match, a key the CRM gained, lost or now shares). The records an incremental
   build recomputes, as the temporary table unmatched_records_rebuilt: those written by the first two since
   the model's last build, and those carrying a key the key map wrote since then (found by the records' key
   indexes). Their rows are deleted first, so a record that is matched now, or lost its keys, keeps none. #}
{% macro unmatched_records_rebuilt() -%}
    {%- if is_incremental() %}
        {%- set since = high_water('built_at') %}
        create temporary table unmatched_records_rebuilt on commit drop as
        select
            record_type,
            record_id
        from {{ ref('int_identity_records') }}
        where built_at > {{ since }}
        union
        select
            record_type,
            record_id
        from {{ ref('int_identity_crm_matches') }}
        where built_at > {{ since }}
        {%- for key_type in ['email', 'phone'] %}
            union
            select
                r.record_type,
                r.record_id
            from {{ ref('int_identity_crm_keys') }} as k
            inner join {{ ref('int_identity_records') }} as r on k.key_value = r.{{ key_type }}
            where k.key_type = '{{ key_type }}' and k.built_at > {{ since }}
        {%- endfor %};
        analyze unmatched_records_rebuilt
    {%- endif %}
{%- endmacro %}

{% macro delete_unmatched_records_rebuilt() -%}
    {%- if is_incremental() %}
        delete from {{ this }} as t
        using unmatched_records_rebuilt as r
        where t.record_type = r.record_type and t.record_id = r.record_id
    {%- endif %}
{%- endmacro %}
