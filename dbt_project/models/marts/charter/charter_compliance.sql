{#
  One row per charter promise, period type (week, month) and period: the promise, its target, the
  measured value and whether it was kept. A period with nothing to measure (no calls that week,
  say) has no row rather than a kept or broken promise.
#}
with promises as (
    select * from {{ ref('stg_ops__charter_promises') }}
),

measures as (
    select * from {{ ref('int_charter_measures') }}
),

final as (
    select
        p.promise_id,
        p.promise,
        p.kpi,
        p.channel,
        m.period_type,
        m.period_start,
        p.target,
        p.direction,
        m.measured_value,
        m.base as measured_on,
        case p.direction
            when 'at_least' then m.measured_value >= p.target
            when 'at_most' then m.measured_value <= p.target
        end as is_kept
    from promises as p
    inner join measures as m
        on
            p.kpi = m.kpi
            and p.channel is not distinct from m.channel
    where m.measured_value is not null
)

select * from final
