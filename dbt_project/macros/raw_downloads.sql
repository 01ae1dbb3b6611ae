{#-
    One source's raw table as loaded (a dbt source): its name, rows and download dates.
-#}
{% macro raw_downloads(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    select
        '{{ source_name }}' as source,
        '{{ relation.schema }}.{{ relation.identifier }}' as raw_table,
        count(*) as raw_rows,
        list(distinct download_date order by download_date) as raw_download_dates
    from {{ relation }}
{%- endmacro %}
