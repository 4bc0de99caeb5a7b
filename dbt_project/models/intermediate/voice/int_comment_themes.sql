{#
  Every theme each free-text comment mentions: survey comments and contact notes, matched against the
  taxonomy's keywords (ops.theme_keyword, from INSIGHT_HUB_THEMES) ignoring case, in any of its
  languages. One row per comment and theme, with when it was written; a comment that mentions no
  theme has no row. The text itself stays here (intermediate is not readable by BI users): marts carry
  the themes, and emerging_themes a few examples with e-mail addresses and numbers masked.
#}
with keywords as (
    select * from {{ ref('stg_ops__theme_keywords') }}
),

comments as (
    select
        'survey' as comment_source,
        response_id as record_id,
        submitted_at as commented_at,
        comment as comment_text
    from {{ ref('stg_survey__responses') }}
    where comment is not null and comment <> ''
    union all
    select
        'contact' as comment_source,
        interaction_id as record_id,
        queued_at as commented_at,
        notes as comment_text
    from {{ ref('stg_contact_centre__interactions') }}
    where notes is not null and notes <> ''
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
        k.touchpoint
    from comments as c
    inner join keywords as k on strpos(lower(c.comment_text), k.keyword) > 0
),

final as (
    select * from matches
)

select * from final
