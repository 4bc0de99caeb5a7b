{# contact_centre_daily's pre-hooks. The cells (day, queue, channel, agent) a build recomputes, as the
   temporary table contact_cells_rebuilt (contact_date, cell, is_whole_day), from the
   contacts fct_contact wrote since this mart's last build:
   - a contact loaded since then (new, corrected, erased) may have moved from another cell, or left one
     the table no longer shows: its whole day is recomputed (one row, is_whole_day, no cell);
   - any other contact was written again with the same interaction, so in the same cell (its customer,
     repeat or first-contact flags changed: identity resolution, a later contact in the repeat window):
     only its cell is recomputed.
   "Loaded since then" is read against the newest load among the contacts fct_contact had not written
   again since: no newer than the newest load this mart counted, so a doubtful contact counts as loaded
   and recomputes its day (newest_value: PostgreSQL reads that max backwards along the loaded_at index).
   The rebuilt contacts are found through fct_contact's built_at index. #}
{% macro contact_cells_rebuilt() -%}
    {%- if is_incremental() %}
        {%- set since = high_water('built_at') %}
        {%- set counted_loads = newest_value(
            ref('fct_contact'), 'loaded_at', where='previous.built_at <= ' ~ since, default="'-infinity'"
        ) %}
        create temporary table contact_cells_rebuilt on commit drop as
        with rebuilt as (
            select
                c.contact_date,
                c.queue,
                c.channel,
                c.agent_id,
                c.loaded_at > {{ counted_loads }} as is_loaded
            from {{ ref('fct_contact') }} as c
            where c.built_at > {{ since }}
        ),

        whole_days as (
            select distinct contact_date from rebuilt
            where is_loaded
        )

        select
            contact_date,
            null::text as cell,
            true as is_whole_day
        from whole_days
        union all
        select distinct
            r.contact_date,
            {{ contact_cell('r') }} as cell,
            false as is_whole_day
        from rebuilt as r
        where r.contact_date not in (select w.contact_date from whole_days as w);
        analyze contact_cells_rebuilt
    {%- endif %}
{%- endmacro %}

{# A contact_centre_daily cell (day, queue, channel, agent) of the row `alias`, as one value to match by
   hashing: the row's text form, in which a null agent and an empty one differ. #}
{% macro contact_cell(alias) -%}
    row({{ alias }}.contact_date, {{ alias }}.queue, {{ alias }}.channel, {{ alias }}.agent_id)::text
{%- endmacro %}

{% macro delete_contact_cells_rebuilt() -%}
    {%- if is_incremental() %}
        delete from {{ this }} as t
        where
            t.contact_date = any(array(select distinct r.contact_date from contact_cells_rebuilt as r))
            and {{ in_contact_cells_rebuilt('t') }}
    {%- endif %}
{%- endmacro %}

{# In contact_centre_daily's incremental build: whether the row `alias` (a contact, or a row of the mart)
   falls in a day or a cell contact_cells_rebuilt lists. #}
{% macro in_contact_cells_rebuilt(alias) -%}
    (
        {{ alias }}.contact_date in (select r.contact_date from contact_cells_rebuilt as r where r.is_whole_day)
        or {{ contact_cell(alias) }} in (select r.cell from contact_cells_rebuilt as r where not r.is_whole_day)
    )
{%- endmacro %}
