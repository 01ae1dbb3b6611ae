-- Every cell the bulletin prints, its tables and the figures its text states, one row a
-- cell, with the codes of the bulletin's published_tables.csv (its first columns), then the
-- print order (the exhibit's place in the seed, the block, the series, the column) and the
-- typed period (kind, first and last day) the code was made from: the current edition of
-- int_bulletin__cells, the same cells as the exhibit marts.
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}
    where edition = 'current'

),

final as (

    select
        "table",
        measure,
        series,
        series_zh,
        period,
        value,
        decimals,
        value_exact,
        unit,
        is_preliminary,
        exhibit_order,
        measure_order,
        series_rank,
        period_order,
        period_kind,
        period_start,
        period_end
    from cells

)

select * from final
order by exhibit_order, measure_order, series_rank, period_order
