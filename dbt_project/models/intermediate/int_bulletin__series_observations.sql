-- The observations each exhibit is built from, per edition, with their lineage (source,
-- download, file): one row per observation an exhibit's series takes in, in the source's unit.
-- Generic: what an exhibit reads and how its series are formed are the bulletin_exhibits seed's
-- (through int_bulletin__exhibit_keys) and its partner groups'. int_bulletin__series sums them
-- into the exhibit's series; fct_bulletin_exhibit_downloads lists the downloads each exhibit
-- used. The total series is the source's own World row (total_from world_row: GTA, ITC) or
-- the sum of every partner (sum_of_partners: customs, and the MOEA survey's one series).
-- Groupings beside countries (partner_kind aggregate: European Union, regions, Free Zones)
-- are never a partner and never summed: they would count their members twice.
with

vintaged as (

    select * from {{ ref('int_observations__vintaged') }}

),

exhibit_keys as (

    select * from {{ ref('int_bulletin__exhibit_keys') }}

),

partner_groups as (

    select * from {{ ref('bulletin_exhibit_partner_groups') }}

),

-- each exhibit's observations: its source, flow, product and measure in the edition
observations as (

    select
        vintaged.edition,
        exhibit_keys.exhibit,
        exhibit_keys.total_from,
        exhibit_keys.total_series,
        exhibit_keys.top_n,
        vintaged.partner_code,
        vintaged.partner_name,
        vintaged.period_grain,
        vintaged.period_start,
        vintaged.value,
        vintaged.is_preliminary,
        vintaged.source,
        vintaged.download_date,
        vintaged.source_file
    from vintaged
    inner join exhibit_keys
        on
            vintaged.edition = exhibit_keys.edition
            and vintaged.source = exhibit_keys.source
            and vintaged.flow = exhibit_keys.flow
            and vintaged.product = exhibit_keys.product
            and vintaged.measure = exhibit_keys.measure
    where not coalesce(vintaged.partner_kind = 'aggregate', false)

),

-- the total series: the source's World row, or every partner summed
totals as (

    select
        edition, exhibit, total_series as series,
        period_grain, period_start, value, is_preliminary,
        source, download_date, source_file
    from observations
    where
        (total_from = 'world_row' and partner_code = 'WORLD')
        or (total_from = 'sum_of_partners' and partner_code is distinct from 'WORLD')

),

-- a series per partner (a partner group's members as one), for an exhibit that shows partners
partners as (

    select
        observations.edition,
        observations.exhibit,
        coalesce(partner_groups.series, observations.partner_code, observations.partner_name) as series,
        observations.period_grain,
        observations.period_start,
        observations.value,
        observations.is_preliminary,
        observations.source,
        observations.download_date,
        observations.source_file
    from observations
    left join partner_groups
        on
            observations.exhibit = partner_groups.exhibit
            and observations.partner_code = partner_groups.partner_code
    where observations.top_n > 0 and observations.partner_code is distinct from 'WORLD'

),

unioned as (

    select * from totals
    union all
    select * from partners

)

select * from unioned
