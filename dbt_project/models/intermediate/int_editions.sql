-- The cut-offs the vintages are resolved for: 'current' (the as_of_date var; null means
-- every download counts) and each published edition of the bulletin.
with

editions as (

    select * from {{ ref('bulletin_editions') }}

),

current_edition as (

    select
        'current' as edition,
        {% if var('as_of_date') %}cast('{{ var("as_of_date") }}' as date){% else %}cast(null as date){% endif %}
            as cutoff_date

),

unioned as (

    select edition, cutoff_date from current_edition
    union all
    select cast(edition as varchar), cast(cutoff_date as date) from editions

)

select * from unioned
