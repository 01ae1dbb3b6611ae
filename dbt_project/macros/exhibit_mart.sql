{#-
    One exhibit's mart: its printed cells of the current edition (every download up to the
    as_of_date var), in print order. The four exhibit marts differ only in the exhibit.
-#}
{% macro exhibit_mart(exhibit) -%}
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}

),

exhibit as (

    select
        "table", measure, series, series_zh, period, value, decimals, value_exact, unit,
        is_preliminary, series_rank, measure_order, period_order
    from cells
    where edition = 'current' and "table" = '{{ exhibit }}'

)

select * from exhibit
order by measure_order, series_rank, period_order
{%- endmacro %}
