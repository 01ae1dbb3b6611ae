-- Mirror check: Taiwan's reported exports of the product to the US against the US's reported
-- imports from Taiwan, for every year from the first year to the last full year both sources
-- cover and the common year-to-date span, with the gap in US$ and percent; each row's period
-- typed (kind, first and last day) and coded from them (period_label macro).
-- marts.fct_mirror_tw_us_server_trade publishes it; marts.dim_bulletin_periods types its periods.
with

monthly as (

    select * from {{ ref('int_mirror__tw_us_monthly') }}

),

bounds as (

    select
        any_value(common_latest) as common_latest,
        case
            when month(any_value(common_latest)) = 12 then year(any_value(common_latest))
            else year(any_value(common_latest)) - 1
        end as last_full_year
    from monthly

),

annual as (

    select
        'year' as period_kind,
        1 as period_kind_order,
        year(monthly.period_start) as period_year,
        {{ year_start('year(monthly.period_start)') }} as period_start,
        {{ year_end('year(monthly.period_start)') }} as period_end,
        sum(monthly.tw_exports_to_us_usd order by monthly.period_start) as tw_exports_to_us_usd,
        sum(monthly.us_imports_from_tw_usd order by monthly.period_start) as us_imports_from_tw_usd,
        bool_or(monthly.is_preliminary) as is_preliminary
    from monthly
    cross join bounds
    where year(monthly.period_start) between {{ var('first_year') }} and bounds.last_full_year
    group by all

),

year_to_date as (

    select
        'ytd' as period_kind,
        2 as period_kind_order,
        year(bounds.common_latest) as period_year,
        {{ year_start('year(bounds.common_latest)') }} as period_start,
        last_day(bounds.common_latest) as period_end,
        sum(monthly.tw_exports_to_us_usd order by monthly.period_start) as tw_exports_to_us_usd,
        sum(monthly.us_imports_from_tw_usd order by monthly.period_start) as us_imports_from_tw_usd,
        bool_or(monthly.is_preliminary) as is_preliminary
    from monthly
    cross join bounds
    where
        month(bounds.common_latest) < 12
        and year(monthly.period_start) = year(bounds.common_latest)
        and month(monthly.period_start) <= month(bounds.common_latest)
    group by all

),

unioned as (

    select * from annual
    union all
    select * from year_to_date

),

final as (

    select
        {{ period_label('period_kind', 'period_start', 'period_end') }} as period,
        period_kind,
        period_start,
        period_end,
        tw_exports_to_us_usd as tw_reported_exports_usd,
        us_imports_from_tw_usd as us_reported_imports_usd,
        us_imports_from_tw_usd - tw_exports_to_us_usd as gap_usd,
        (us_imports_from_tw_usd - tw_exports_to_us_usd) / nullif(tw_exports_to_us_usd, 0) * 100 as gap_pct,
        is_preliminary,
        period_kind_order * 10000 + period_year as period_order
    from unioned

)

select * from final
