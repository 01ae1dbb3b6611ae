-- Table 2, the US's server imports by source (Global Trade Atlas): value in 億美元, growth and share of GTA's World, for the total and the five largest sources of the latest column.
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}

),

exhibit as (

    select
        "table", measure, series, series_zh, period, value, decimals, value_exact, unit,
        is_preliminary, series_rank, measure_order, period_order
    from cells
    where edition = 'current' and "table" = 'table2_us_server_imports_by_source'

)

select * from exhibit
order by measure_order, series_rank, period_order
