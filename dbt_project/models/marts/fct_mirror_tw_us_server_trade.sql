-- Mirror check: Taiwan's reported server exports to the US against the US's reported server
-- imports from Taiwan, for every year from the first year to the last full year both sources
-- cover and the common year-to-date span, with the gap in US$ and percent (built, with each
-- period typed, in int_bulletin__mirror; marts.dim_bulletin_periods has the types).
with

mirror as (

    select * from {{ ref('int_bulletin__mirror') }}

),

final as (

    select
        period,
        tw_reported_exports_usd,
        us_reported_imports_usd,
        gap_usd,
        gap_pct,
        is_preliminary,
        period_order
    from mirror

)

select * from final
order by period_order
