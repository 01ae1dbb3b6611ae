{#- Fails for every row whose `column_name` is below zero: trade and production values cannot be. -#}
{% test not_negative(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
