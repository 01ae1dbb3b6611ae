-- Every cell the bulletin prints, its tables and the figures its text states, one row a
-- cell, with the codes of the bulletin's published_tables.csv: the four exhibit marts, long.
with

figure1 as (

    select * from {{ ref('fct_bulletin_figure1_production') }}

),

table1 as (

    select * from {{ ref('fct_bulletin_table1_exports_by_destination') }}

),

table2 as (

    select * from {{ ref('fct_bulletin_table2_us_imports_by_source') }}

),

table3 as (

    select * from {{ ref('fct_bulletin_table3_major_exporters') }}

),

unioned as (

    select *, 1 as exhibit_order from figure1
    union all
    select *, 2 from table1
    union all
    select *, 3 from table2
    union all
    select *, 4 from table3

),

cells as (

    select
        "table", measure, series, series_zh, period, value, decimals, value_exact, unit, is_preliminary
    from unioned
    order by exhibit_order, measure_order, series_rank, period_order

)

select * from cells
