with source as (
    select * from {{ source('ops', 'theme_keyword') }}
),

final as (
    select
        theme_id,
        label as theme_label,
        owner_function,
        touchpoint,
        language,
        lower(keyword) as keyword
    from source
)

select * from final
