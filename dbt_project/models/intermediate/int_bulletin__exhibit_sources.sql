-- The source each exhibit is built from in each edition, and how its total is formed: part of
-- the exhibit's definition. An exhibit with a source_var (bulletin_exhibits) takes in the
-- current edition the source that var chooses (us_imports_source: Table 2 from gta or census;
-- exporters_source: Table 3 from itc or comtrade), with the total_from of that option
-- (bulletin_exhibit_source_options); a published edition is rebuilt from the exhibit's own
-- source, the one it was published from. A var naming a source the exhibit has no option for
-- gives no source (the not_null test names the var).
with

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

options as (

    select * from {{ ref('bulletin_exhibit_source_options') }}

),

editions as (

    select * from {{ ref('int_editions') }}

),

chosen as (

    select
        exhibits.exhibit,
        exhibits.source as own_source,
        exhibits.total_from as own_total_from,
        nullif(exhibits.source_var, '') as source_var,
        {{ chosen_source('exhibits.source_var') }} as chosen_source
    from exhibits

),

resolved as (

    select
        editions.edition,
        chosen.exhibit,
        chosen.source_var,
        chosen.chosen_source,
        case
            when editions.edition <> 'current' or chosen.chosen_source is null then chosen.own_source
            when chosen.chosen_source = chosen.own_source then chosen.own_source
            else options.source
        end as source,
        case
            when editions.edition <> 'current' or chosen.chosen_source is null then chosen.own_total_from
            when chosen.chosen_source = chosen.own_source then chosen.own_total_from
            else options.total_from
        end as total_from,
        chosen.chosen_source is not null and chosen.chosen_source <> chosen.own_source
        and editions.edition = 'current' as is_other_source
    from chosen
    cross join editions
    left join options
        on chosen.exhibit = options.exhibit and chosen.chosen_source = options.source

)

select * from resolved
