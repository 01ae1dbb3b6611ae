{#-
    An exhibit's mart: its printed cells of the current edition (every download up to the
    as_of_date var), in print order. Every exhibit mart is this macro and nothing else: which
    exhibit a mart holds is the bulletin_exhibits seed's (its mart column names the model).
-#}
{% macro exhibit_mart() -%}
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

exhibit as (

    select
        cells."table", cells.measure, cells.series, cells.series_zh, cells.period, cells.value,
        cells.decimals, cells.value_exact, cells.unit, cells.is_preliminary, cells.series_rank,
        cells.measure_order, cells.period_order
    from cells
    inner join exhibits on cells."table" = exhibits.exhibit
    where cells.edition = 'current' and exhibits.mart = '{{ this.identifier }}'

)

select * from exhibit
order by measure_order, series_rank, period_order
{%- endmacro %}
