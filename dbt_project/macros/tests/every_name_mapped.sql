{#-
    Fails when a name in `name_column` has no code in `column_name`: a partner or product
    that no seed maps. One failing row per unmapped name, with where it was first seen,
    so the failure names what to add to the seed. Give it `config: where:` to check only the
    rows where any unmapped name changes a printed cell (customs: the rows Table 1 sums);
    a partner name elsewhere is judged by int_partners__unmapped (it fails the build only
    when it could change a printed cell).
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
