{{
    config(
        materialized='incremental',
        unique_key=['comment_source', 'record_id'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        indexes=[
            {'columns': ['comment_source', 'record_id']},
            {'columns': ['comment_source', 'loaded_at']},
            {'columns': ['built_at']},
            {'columns': ['theme_id', 'commented_at']},
        ],
    )
}}
{#
  The theme matching behind int_comment_themes (which reads it without the null rows): one row per
  survey response or contact and theme its comment mentions, matched against the taxonomy's keywords
  (ops.theme_keyword, from INSIGHT_HUB_THEMES) ignoring case; a record whose comment mentions none,
  or that has no comment, has one row with a null theme_id.

  Incremental: a build matches the records each staging model published since the last one (a
  corrected or erased record is rewritten whole, so a theme it no longer mentions goes), and every
  record again when the taxonomy changed (taxonomy_hash).
#}
with keywords as (
    select * from {{ ref('stg_ops__theme_keywords') }}
),

taxonomy as (
    select
        md5(
            coalesce(
                string_agg(
                    concat_ws('|', theme_id, keyword, theme_label, owner_function, touchpoint),
                    ',' order by theme_id, keyword
                ),
                ''
            )
        ) as taxonomy_hash
    from keywords
),

{% if is_incremental() %}
    -- Rows matched against another taxonomy than today's: every record is matched again.
    rebuild_all as (
        select
            not exists (
                select 1 from {{ this }} as previous
                where previous.taxonomy_hash = (select t.taxonomy_hash from taxonomy as t)
            ) as is_needed
    ),
{% endif %}

responses as (
    select
        response_id,
        submitted_at,
        comment,
        loaded_at
    from {{ ref('stg_survey__responses') }}
    {% if is_incremental() -%}
        where
            loaded_at > {{ high_water('loaded_at', "previous.comment_source = 'survey'") }}
            or (select r.is_needed from rebuild_all as r)
    {%- endif %}
),

interactions as (
    select
        interaction_id,
        queued_at,
        notes,
        loaded_at
    from {{ ref('stg_contact_centre__interactions') }}
    {% if is_incremental() -%}
        where
            loaded_at > {{ high_water('loaded_at', "previous.comment_source = 'contact'") }}
            or (select r.is_needed from rebuild_all as r)
    {%- endif %}
),

-- The text lower-cased once per comment (materialized), not once per comment and keyword.
comments as materialized (
    select
        'survey' as comment_source,
        response_id as record_id,
        submitted_at as commented_at,
        nullif(comment, '') as comment_text,
        lower(nullif(comment, '')) as comment_lower,
        loaded_at
    from responses
    union all
    select
        'contact' as comment_source,
        interaction_id as record_id,
        queued_at as commented_at,
        nullif(notes, '') as comment_text,
        lower(nullif(notes, '')) as comment_lower,
        loaded_at
    from interactions
),

matches as (
    select distinct
        c.comment_source,
        c.record_id,
        c.commented_at,
        c.comment_text,
        k.theme_id,
        k.theme_label,
        k.owner_function,
        k.touchpoint,
        c.loaded_at
    from comments as c
    left join keywords as k on strpos(c.comment_lower, k.keyword) > 0
),

final as (
    select
        m.*,
        t.taxonomy_hash,
        {{ built_at() }}
    from matches as m
    cross join taxonomy as t
)

select * from final
