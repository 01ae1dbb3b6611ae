{#- Fails (warns, as configured) for every period whose mirror gap exceeds max_abs_pct percent. -#}
{% test mirror_gap_within(model, column_name, max_abs_pct) %}

select *
from {{ model }}
where abs({{ column_name }}) > {{ max_abs_pct }}

{% endtest %}
