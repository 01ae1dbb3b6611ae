{#- unique_combination for an incremental model that replaces whole partitions, the partition being
    part of the combination (macros/incremental_downloads.sql): a combination can only repeat within
    a partition, and each partition is written whole by one build, so the rows the latest build
    wrote (`built_column` at its latest) are those to check. A full build writes every row: all are
    checked. Fails for every such combination that occurs more than once. -#}
{% test unique_combination_as_built(model, combination_of_columns, built_column='built_at') %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
where {{ built_column }} = (select max({{ built_column }}) from {{ model }})
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
