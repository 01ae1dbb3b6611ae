{#- Fails for every combination of `combination_of_columns` that occurs more than once.
    A 64-bit hash of each row's combination is grouped first: where no hash repeats, no combination
    does, and only the rows whose hash repeats are grouped by the combination itself (over the
    millions of rows of the customs history, grouping one integer costs about half of grouping the
    columns). -#}
{% test unique_combination(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') %}

with

repeated_hashes as (

    select hash({{ columns }}) as combination_hash
    from {{ model }}
    group by combination_hash
    having count(*) > 1

)

select
    {{ columns }},
    count(*) as occurrences
from {{ model }}
where hash({{ columns }}) in (select repeated_hashes.combination_hash from repeated_hashes)
group by {{ columns }}
having count(*) > 1

{% endtest %}
