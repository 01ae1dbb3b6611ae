-- Where the current edition's numbers come from, per source that holds the product (its HS
-- code; the MOEA survey's product): the source's latest period, the download that gave it
-- (the latest download holding that period) and its files, the preliminary months, how many
-- of the product's values later downloads revised, and the raw table every download of the
-- source was loaded into (its rows, its download dates). manifest.json (sources) and the
-- marts' metadata in Dagster read it.
with

source_products as (

    select distinct source, product from {{ ref('int_bulletin__exhibit_keys') }}
    where edition = 'current'

),

vintaged as (

    select * from {{ ref('int_observations__vintaged') }}
    where edition = 'current'

),

revisions as (

    select * from {{ ref('int_observations__revisions') }}

),

observations as (

    select vintaged.*
    from vintaged
    inner join source_products
        on vintaged.source = source_products.source and vintaged.product = source_products.product

),

latest as (

    select source, max(period_start) as latest_period_start
    from observations
    group by source

),

at_latest as (

    select
        observations.source,
        any_value(observations.period_grain) as period_grain,
        max(observations.download_date) as download_date,
        list(distinct observations.source_file order by observations.source_file) as source_files
    from observations
    inner join latest
        on observations.source = latest.source and observations.period_start = latest.latest_period_start
    group by observations.source

),

preliminary as (

    select source, list(distinct period_start order by period_start) as preliminary_months
    from observations
    where is_preliminary
    group by source

),

revised as (

    select revisions.source, count(*) as revised_values
    from revisions
    inner join source_products
        on revisions.source = source_products.source and revisions.product = source_products.product
    group by revisions.source

),

-- every download of each source as loaded (dbt sources over the raw tables)
raw_tables as (

    {{ raw_downloads('customs', 'customs_trade') }}
    union all
    {{ raw_downloads('gta', 'gta_us_imports') }}
    union all
    {{ raw_downloads('itc', 'itc_exporters') }}
    union all
    {{ raw_downloads('moea', 'moea_production') }}
    union all
    {{ raw_downloads('census', 'census_us_imports') }}
    union all
    {{ raw_downloads('comtrade', 'comtrade_exporters') }}

),

final as (

    select
        latest.source,
        at_latest.period_grain,
        latest.latest_period_start,
        at_latest.download_date,
        at_latest.source_files,
        coalesce(preliminary.preliminary_months, []) as preliminary_months,
        coalesce(revised.revised_values, 0) as revised_values,
        raw_tables.raw_table,
        raw_tables.raw_rows,
        raw_tables.raw_download_dates
    from latest
    inner join at_latest on latest.source = at_latest.source
    left join preliminary on latest.source = preliminary.source
    left join revised on latest.source = revised.source
    left join raw_tables on latest.source = raw_tables.source

)

select * from final
order by source
