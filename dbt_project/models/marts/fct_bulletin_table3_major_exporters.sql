-- Table 3, the major exporting countries (ITC Trade Map): value in 億美元, growth, share of ITC's World, average growth and change of share, for the world and the four largest exporters of the latest year.
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}

),

exhibit as (

    select
        "table", measure, series, series_zh, period, value, decimals, value_exact, unit,
        is_preliminary, series_rank, measure_order, period_order
    from cells
    where edition = 'current' and "table" = 'table3_major_exporters'

)

select * from exhibit
order by measure_order, series_rank, period_order
