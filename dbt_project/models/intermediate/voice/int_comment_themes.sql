{{ config(materialized='view') }}
{#
  Every theme each free-text comment mentions: survey comments and contact notes, matched against the
  taxonomy's keywords (ops.theme_keyword, from INSIGHT_HUB_THEMES) ignoring case, in any of its
  languages. One row per comment and theme, with when it was written; a comment that mentions no
  theme has no row. The text itself stays here (intermediate is not readable by BI users): marts carry
  the themes, and emerging_themes a few examples with e-mail addresses and numbers masked.
  The matching is int_comment_theme_matches (incremental).

  One plain select, without the usual import and final CTEs: PostgreSQL cannot merge a view whose
  query has a WITH clause into the query that reads it, so every reader would read all the matching
  rows before its own filters, order and limit could use int_comment_theme_matches' indexes.
  Flat, emerging_themes' three examples of a week read three rows through the (theme_id,
  commented_at) index instead of the week's thousands, and voice_of_customer's week of responses
  looks its themes up by record instead of hashing every survey comment's.
#}
select
    comment_source,
    record_id,
    commented_at,
    comment_text,
    theme_id,
    theme_label,
    owner_function,
    touchpoint
from {{ ref('int_comment_theme_matches') }}
where theme_id is not null
