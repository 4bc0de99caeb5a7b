{{ config(materialized='view') }}
{#
  Every theme each free-text comment mentions: survey comments and contact notes, matched against the
  taxonomy's keywords (ops.theme_keyword, from INSIGHT_HUB_THEMES) ignoring case, in any of its
  languages. One row per comment and theme, with when it was written; a comment that mentions no
  theme has no row. The text itself stays here (intermediate is not readable by BI users): marts carry
  the themes, and emerging_themes a few examples with e-mail addresses and numbers masked.
  The matching is int_comment_theme_matches (incremental).
#}
with matches as (
    select * from {{ ref('int_comment_theme_matches') }}
),

final as (
    select
        comment_source,
        record_id,
        commented_at,
        comment_text,
        theme_id,
        theme_label,
        owner_function,
        touchpoint
    from matches
    where theme_id is not null
)

select * from final
