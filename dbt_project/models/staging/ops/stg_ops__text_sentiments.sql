with source as (
    select * from {{ source('ops', 'text_sentiment') }}
),

final as (
    select
        text_hash,
        compound
    from source
)

select * from final
