{#-
    Fails when a name in `name_column` has no code in `column_name`: a partner or product
    that no seed maps. One failing row per unmapped name, with where it was first seen,
    so the failure names what to add to the seed.
-#}
{% test every_name_mapped(model, column_name, name_column, seed) %}

select
    {{ name_column }} as unmapped_name,
    '{{ seed }}' as add_it_to_seed,
    min(source_file) as first_seen_in,
    count(*) as rows_affected
from {{ model }}
where {{ column_name }} is null
group by {{ name_column }}

{% endtest %}
