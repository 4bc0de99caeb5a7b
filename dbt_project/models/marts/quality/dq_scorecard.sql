with results as (
    select * from {{ ref('stg_ops__dq_results') }}
),

batches as (
    select * from {{ ref('stg_ops__load_batches') }}
),

daily as (
    select
        b.source_system,
        r.entity,
        r.expectation,
        r.severity,
        r.evaluated_at::date as evaluated_on,
        count(*) as batches_validated,
        count(*) filter (where r.success) as batches_passed,
        sum(r.rows_evaluated) as rows_evaluated,
        sum(r.rows_failed) as rows_failed
    from results as r
    inner join batches as b on r.batch_id = b.batch_id
    group by b.source_system, r.entity, r.expectation, r.severity, r.evaluated_at::date
),

final as (
    select
        source_system,
        entity,
        expectation,
        severity,
        evaluated_on,
        batches_validated,
        batches_passed,
        round(100.0 * batches_passed / batches_validated, 1) as batch_pass_rate_pct,
        rows_evaluated,
        rows_failed,
        case
            when rows_evaluated > 0 then round(100.0 * (rows_evaluated - coalesce(rows_failed, 0)) / rows_evaluated, 2)
        end as row_pass_rate_pct
    from daily
)

select * from final
