-- The cut-offs the vintages are resolved for, and the product each is built for: 'current'
-- (the as_of_date var, null meaning every download counts; the hs_code var) and each
-- published edition of the bulletin (its cut-off and product).
with

editions as (

    select * from {{ ref('bulletin_editions') }}

),

current_edition as (

    select
        'current' as edition,
        '{{ var("hs_code") }}' as hs_code,
        {% if var('as_of_date') %}cast('{{ var("as_of_date") }}' as date){% else %}cast(null as date){% endif %}
            as cutoff_date

),

unioned as (

    select edition, hs_code, cutoff_date from current_edition
    union all
    select cast(edition as varchar), cast(hs_code as varchar), cast(cutoff_date as date) from editions

)

select * from unioned
