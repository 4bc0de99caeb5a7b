{# The on-run-end hook: VACUUM the tables this build wrote whose config asks for it
   (meta.vacuum_after_build) and whose visibility map covers less than `percent` of their pages
   (pg_class.relallvisible against relpages, as the last ANALYZE or VACUUM counted them); one VACUUM
   statement for all of them, or none.

   Why: int_customer_lifetime reads each touched customer's whole history of contacts, orders and
   survey responses through indexes on customer_id that hold every column it counts. An index-only
   scan skips the table only for pages the visibility map marks all-visible, and a freshly built table
   has none marked until a VACUUM runs. Through a customer_id index alone, the benchmark's daily build
   made 214,000 page reads (table and index) for 149,000 orders (2.4 s of the lifetime's select);
   through the covering index of a vacuumed fct_order, 0.19 s. Autovacuum gets to a new table minutes later at best, and to a
   daily build's changes once a fifth of the table changed. A VACUUM in a model's own post-hook marks
   few pages or none: the other threads' transactions, older than the model's rows, are still open. At
   the end of the build none are, so a full build ends by vacuuming the new facts, and a daily build
   only once its days of rows have taken a table's share of all-visible pages under `percent`. #}
{% macro vacuum_unvisible_tables(results, percent=80) -%}
    {%- if execute -%}
        {%- set candidates = [] -%}
        {%- for result in results
            if result.status == 'success' and result.node.config.meta.get('vacuum_after_build') -%}
            {%- do candidates.append("'" ~ result.node.relation_name ~ "'::regclass") -%}
        {%- endfor -%}
        {%- if candidates -%}
            {%- set unvisible = run_query(
                "select oid::regclass::text from pg_class where oid in (" ~ candidates | join(', ') ~ ")"
                ~ " and relpages > 0 and relallvisible * 100 < " ~ percent ~ " * relpages order by 1"
            ).columns[0].values() -%}
            {%- if unvisible -%}
                vacuum {{ unvisible | join(', ') }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
