-- Table 1, Taiwan's server exports by destination (customs, HS code var, exports 出口總值(含復出口)): value in 億美元, growth, share of all destinations and average growth, for the total and the five largest destinations of the latest column (China and Hong Kong as one, CN+HK).
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}

),

exhibit as (

    select
        "table", measure, series, series_zh, period, value, decimals, value_exact, unit,
        is_preliminary, series_rank, measure_order, period_order
    from cells
    where edition = 'current' and "table" = 'table1_tw_server_exports_by_destination'

)

select * from exhibit
order by measure_order, series_rank, period_order
