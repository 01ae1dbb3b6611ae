-- The observations each exhibit is built from, per edition, with their lineage (source,
-- download, file): one row per observation an exhibit's series takes in, in the source's unit.
-- int_bulletin__series sums them into the exhibit's series; fct_bulletin_exhibit_downloads
-- lists the downloads each exhibit used. The total series is the source's own total where it
-- has one (GTA's and ITC's World), else the sum of every partner (customs).
with

vintaged as (

    select * from {{ ref('int_observations__vintaged') }}

),

editions as (

    select * from {{ ref('int_editions') }}

),

-- each edition's observations, with the HS code it is built for
observations as (

    select
        vintaged.*,
        editions.hs_code,
        -- groupings beside countries (European Union, regions, trade blocs): never a partner
        coalesce(vintaged.partner_kind = 'aggregate', false) as is_aggregate
    from vintaged
    inner join editions on vintaged.edition = editions.edition

),

products as (

    select * from {{ ref('products') }}

),

figure1 as (

    -- the survey product that corresponds to the HS code (none: no Figure 1)
    select
        observations.edition, 'figure1_tw_server_production' as exhibit, 'total' as series,
        observations.period_grain, observations.period_start, observations.value,
        observations.is_preliminary,
        observations.source, observations.download_date, observations.source_file
    from observations
    inner join products
        on
            observations.product = products.moea_product
            and observations.hs_code = products.hs_code
    where
        observations.source = 'moea'
        and observations.measure = '{{ var("moea_measure") }}'

),

customs_exports as (

    select * from observations
    -- a grouping (partner_kind aggregate) is no destination and would count its members twice
    where source = 'customs' and flow = 'export' and product = hs_code and not is_aggregate

),

table1 as (

    -- The bulletin shows China and Hong Kong as one destination.
    select
        edition, 'table1_tw_server_exports_by_destination' as exhibit,
        case when partner_code in ('CN', 'HK') then 'CN+HK' else coalesce(partner_code, partner_name) end
            as series,
        period_grain, period_start, value, is_preliminary,
        source, download_date, source_file
    from customs_exports

    union all

    select
        edition, 'table1_tw_server_exports_by_destination', 'total',
        period_grain, period_start, value, is_preliminary,
        source, download_date, source_file
    from customs_exports

),

table2 as (

    select
        edition, 'table2_us_server_imports_by_source' as exhibit,
        case when partner_code = 'WORLD' then 'total' else coalesce(partner_code, partner_name) end
            as series,
        period_grain, period_start, value, is_preliminary,
        source, download_date, source_file
    from observations
    where source = 'gta' and flow = 'import' and product = hs_code and not is_aggregate

),

table3 as (

    select
        edition, 'table3_major_exporters' as exhibit,
        case when partner_code = 'WORLD' then 'world' else coalesce(partner_code, partner_name) end
            as series,
        period_grain, period_start, value, is_preliminary,
        source, download_date, source_file
    from observations
    where source = 'itc' and product = hs_code and not is_aggregate

),

unioned as (

    select * from figure1
    union all
    select * from table1
    union all
    select * from table2
    union all
    select * from table3

)

select * from unioned
