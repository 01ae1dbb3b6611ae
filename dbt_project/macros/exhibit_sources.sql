{#-
    The dbt vars that choose an exhibit's source (bulletin_exhibits.source_var names one per
    exhibit that can be built from another source): their names, and the value each has in this
    run, as SQL. Each var's default (dbt_project.yml) is the exhibit's own source; another value
    must be one of the exhibit's options (bulletin_exhibit_source_options), which
    int_bulletin__exhibit_sources checks.
-#}
{% macro exhibit_source_vars() -%}
    {{ return(['us_imports_source', 'exporters_source']) }}
{%- endmacro %}

{#- SQL: the source the var named by the column ``source_var`` chooses (null: the exhibit has none). -#}
{% macro chosen_source(source_var) -%}
    case {{ source_var }}
        {%- for name in exhibit_source_vars() %}
        when '{{ name }}' then '{{ var(name) }}'
        {%- endfor %}
    end
{%- endmacro %}
