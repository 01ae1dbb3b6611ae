{#-
    The bulletin's printing rule, applied once, to unrounded values.
    Values print with the exhibit's decimals (0 for Figure 1's 億元, else 1), and with two
    where one would print 0.0 (0.01); percentages and percentage points with one.
-#}
{% macro printed_decimals(value_exact, measure, value_decimals) -%}
    case
        when {{ measure }} <> 'value' then 1
        when {{ value_decimals }} = 0 then 0
        when round(abs({{ value_exact }}), 1) = 0 and {{ value_exact }} <> 0 then 2
        else {{ value_decimals }}
    end
{%- endmacro %}

{% macro printed_value(value_exact, decimals) -%}
    round({{ value_exact }}, {{ decimals }})
{%- endmacro %}
