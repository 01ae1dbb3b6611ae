-- Mirror statistics, month by month: Taiwan's reported exports to the US (customs) beside
-- the US's reported imports from Taiwan (the source Table 2 is built from: GTA, or the US
-- Census Bureau's API where us_imports_source chooses census), in US$, unrounded, up to the
-- latest month both sources cover (a month a source covers but has no row for had no trade: zero).
with

observations as (

    select * from {{ ref('int_observations__vintaged') }}
    where edition = 'current' and product = '{{ var("hs_code") }}' and period_grain = 'month'

),

taiwan_reported as (

    select
        period_start,
        sum(value order by value) * 1000 as tw_exports_to_us_usd,
        bool_or(is_preliminary) as is_preliminary
    from observations
    where source = 'customs' and flow = 'export' and partner_code = 'US'
    group by period_start

),

us_reported as (

    select period_start, sum(value order by value) as us_imports_from_tw_usd
    from observations
    where source = '{{ var("us_imports_source") }}' and flow = 'import' and partner_code = 'TW'
    group by period_start

),

bounds as (

    select
        (
            select max(period_start) from observations
            where source = 'customs' and flow = 'export')
            as customs_latest,
        (
            select max(period_start) from observations
            where source = '{{ var("us_imports_source") }}' and flow = 'import')
            as gta_latest

),

months as (

    select period_start from taiwan_reported
    union
    select period_start from us_reported

),

joined as (

    select
        months.period_start,
        coalesce(taiwan_reported.tw_exports_to_us_usd, 0) as tw_exports_to_us_usd,
        coalesce(us_reported.us_imports_from_tw_usd, 0) as us_imports_from_tw_usd,
        coalesce(taiwan_reported.is_preliminary, false) as is_preliminary,
        least(bounds.customs_latest, bounds.gta_latest) as common_latest
    from months
    cross join bounds
    left join taiwan_reported on months.period_start = taiwan_reported.period_start
    left join us_reported on months.period_start = us_reported.period_start
    -- both sources must cover the product: a product one of them lacks has no mirror
    where
        months.period_start <= least(bounds.customs_latest, bounds.gta_latest)
        and bounds.customs_latest is not null
        and bounds.gta_latest is not null

)

select * from joined
