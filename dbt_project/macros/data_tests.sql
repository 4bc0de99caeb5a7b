{# Data tests on large incremental tables check the rows the table's newest build wrote, not the whole
   table again every day. A test opts in with `config: {where: __newest_build__}` (dbt's `where` config,
   whose rendering dbt lets a project override with this macro); the placeholder becomes
   `built_at = <the table's newest built_at>`, read when the test runs.

   Why that is enough, for the tests that use it:
   - A build writes all its rows in one transaction, so they share one built_at (built_at()), the table's
     newest. A full refresh writes every row at once, so it checks every row.
   - Row tests (not_null, accepted_values, value_between) hold for the older rows since the build that
     wrote them checked them.
   - A uniqueness test is used this way only on a delete+insert model whose unique_key is among the
     tested columns, or on an append model whose hooks delete exactly what it rewrites (owner_periods.sql).
     Every stored row sharing a key with a new row is then deleted first, so a duplicate can only be
     among the new rows.
   - Relationship tests read whole tables: a parent can go away under an old row.

   `dbt build --vars '{test_every_row: true}'` checks every row, as an audit. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if not where -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- if '__newest_build__' in where -%}
        {%- if var('test_every_row', false) -%}
            {%- set newest = 'true' -%}
        {%- else -%}
            {#- A literal, so that PostgreSQL finds the newest build's rows by the built_at index (see
                newest_value); a table whose rows carry no built_at yet is checked whole. -#}
            {#- `dbt compile` and `dbt docs generate` compile tests before a first build made the table. -#}
            {%- set value = newest_value(relation, 'built_at') if load_relation(relation) is not none else none -%}
            {%- set newest = 'true' if value is none else 'built_at = ' ~ value -%}
        {%- endif -%}
        {%- set where = where | replace('__newest_build__', newest) -%}
    {%- endif -%}
    {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') as dbt_subquery') -%}
{%- endmacro %}
