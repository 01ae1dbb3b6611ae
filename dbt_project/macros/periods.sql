{#-
    The bulletin's periods, typed: a period is its kind and its first and last day; its code
    (the label the cells, the marts and the published files carry) is made from them here, in
    one place, and nowhere read back.

      year  2017-01-01 .. 2017-12-31  ->  2017
      ytd   2024-01-01 .. 2024-09-30  ->  2024-01..09   (a year to date: January to a month)
      span  2018-01-01 .. 2023-12-31  ->  2018..2023    (average growth, change of share)
-#}
{% macro period_label(period_kind, period_start, period_end) -%}
    case {{ period_kind }}
        when 'year' then cast(year({{ period_start }}) as varchar)
        when 'ytd' then printf('%d-%02d..%02d', year({{ period_start }}), month({{ period_start }}), month({{ period_end }}))
        when 'span' then printf('%d..%d', year({{ period_start }}), year({{ period_end }}))
    end
{%- endmacro %}

{#- The first day of a year, and its last. -#}
{% macro year_start(year) -%}
    make_date(cast({{ year }} as integer), 1, 1)
{%- endmacro %}

{% macro year_end(year) -%}
    make_date(cast({{ year }} as integer), 12, 31)
{%- endmacro %}

{#- The last day of a month of a year. -#}
{% macro month_end(year, month) -%}
    last_day(make_date(cast({{ year }} as integer), cast({{ month }} as integer), 1))
{%- endmacro %}
