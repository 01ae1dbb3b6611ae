-- Figure 1, Taiwan's server production value (MOEA survey, product 伺服器): value in whole 億元 (NT$ 100 million) and growth, for every year from the first year to the last full year and the year-to-date span.
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}

),

exhibit as (

    select
        "table", measure, series, series_zh, period, value, decimals, value_exact, unit,
        is_preliminary, series_rank, measure_order, period_order
    from cells
    where edition = 'current' and "table" = 'figure1_tw_server_production'

)

select * from exhibit
order by measure_order, series_rank, period_order
