{#-
    The bulletin's printing rule, applied once, to unrounded values.
    Values print with the exhibit's decimals (0 for Figure 1's 億元, else 1), and with two
    where one would print 0.0 (0.01); percentages and percentage points with one.
    Rounding is half away from zero on the decimal value (12.35 prints 12.4), not on its
    binary approximation (12.3499999…).
-#}
{% macro decimal_round(value_exact, decimals) -%}
    {%- if decimals is number -%}
    cast(round(cast({{ value_exact }} as decimal(38, 9)), {{ decimals }}) as double)
    {%- else -%}
    {#- DuckDB rounds a decimal only to a constant precision: one branch a precision, each
        cast to double (a CASE takes its first branch's decimal scale otherwise). -#}
    case {{ decimals }}
        {%- for d in range(4) %}
        when {{ d }} then cast(round(cast({{ value_exact }} as decimal(38, 9)), {{ d }}) as double)
        {%- endfor %}
    end
    {%- endif -%}
{%- endmacro %}

{% macro printed_decimals(value_exact, measure, value_decimals) -%}
    case
        when {{ measure }} <> 'value' then 1
        when {{ value_decimals }} = 0 then 0
        when {{ decimal_round('abs(' ~ value_exact ~ ')', 1) }} = 0 and {{ value_exact }} <> 0 then 2
        else {{ value_decimals }}
    end
{%- endmacro %}

{% macro printed_value(value_exact, decimals) -%}
    {{ decimal_round(value_exact, decimals) }}
{%- endmacro %}
