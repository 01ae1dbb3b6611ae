-- A failure means a name the seeds classify as an aggregate (partner_kind aggregate: a
-- grouping such as European Union or a catch-all such as Free Zones, no partner) would be
-- printed as one of an exhibit's partners (its value ranks it among those shown in the latest
-- column) or is summed into an exhibit's total with the partners it groups. What to do: make
-- the download without groupings (GTA: countries only); if the name is in fact a country,
-- correct its partner_kind and code in the seed.
-- It reads the exhibits' columns and the seeds: meta.dagster.ref shows it in Dagster as a check
-- on int_bulletin__periods.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'int_bulletin__periods'}}}) }}
with

periods as (

    select * from {{ ref('int_bulletin__periods') }}

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

-- the source each exhibit is built from in each edition, and how its total is formed
exhibit_sources as (

    select * from {{ ref('int_bulletin__exhibit_sources') }}

),

classified as (

    select 'customs' as source, partner_name, partner_code, partner_kind from {{ ref('partner_names_customs') }}
    union all
    select 'gta', partner_name, partner_code, partner_kind from {{ ref('partner_names_gta') }}
    union all
    select 'itc', partner_name, partner_code, partner_kind from {{ ref('partner_names_itc') }}
    union all
    select 'census', partner_name, partner_code, partner_kind from {{ ref('partner_names_census') }}
    union all
    select 'comtrade', partner_name, partner_code, partner_kind from {{ ref('partner_names_comtrade') }}

),

aggregates as (

    select source, partner_code, min(partner_name) as partner_name
    from classified
    group by source, partner_code
    having bool_and(partner_kind = 'aggregate')

),

latest_ranked as (

    select
        periods.edition, periods.exhibit, periods.series, periods.period, periods.value,
        row_number() over (
            partition by periods.edition, periods.exhibit order by periods.value desc, periods.series asc
        ) as series_rank
    from periods
    where
        not periods.is_total and periods.is_ranking_column

),

-- an exhibit whose total is the sum of its partners (customs' Table 1; comtrade's Table 3): every
-- partner (any column, any value) is summed into it
summed as (

    select periods.edition, periods.exhibit, periods.series
    from periods
    inner join exhibit_sources
        on periods.edition = exhibit_sources.edition and periods.exhibit = exhibit_sources.exhibit
    where
        exhibit_sources.total_from = 'sum_of_partners'
        and not periods.is_total
        and (periods.value <> 0 or coalesce(periods.prior_value, 0) <> 0)
    group by periods.edition, periods.exhibit, periods.series

),

found as (

    select
        latest_ranked.edition, latest_ranked.exhibit, latest_ranked.series,
        'would be shown: rank ' || latest_ranked.series_rank || ' in ' || latest_ranked.period as why
    from latest_ranked
    inner join exhibits on latest_ranked.exhibit = exhibits.exhibit
    where latest_ranked.series_rank <= exhibits.top_n

    union all

    select edition, exhibit, series, 'summed into the total with the partners it groups'
    from summed

)

select
    found.edition,
    found.exhibit,
    aggregates.source || ' name "' || aggregates.partner_name || '" (' || aggregates.partner_code || ')' as aggregate,
    found.why
from found
inner join exhibit_sources
    on found.edition = exhibit_sources.edition and found.exhibit = exhibit_sources.exhibit
inner join aggregates
    on exhibit_sources.source = aggregates.source and found.series = aggregates.partner_code
