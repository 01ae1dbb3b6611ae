-- Each exhibit's columns, per edition: every year from the year before the first_year var
-- (read for growth) to the last full year, and, where the latest month of the latest year
-- is not December, the year-to-date span January..latest month with the same months a year
-- earlier. The latest month is found per exhibit, from its own data. A column is typed: its
-- kind (year, ytd), its first and last day, and its code made from them (period_label macro:
-- 2023, 2024-01..09).
with

series as (

    select * from {{ ref('int_bulletin__series') }}

),

bounds as (

    select
        edition,
        exhibit,
        any_value(period_grain) as period_grain,
        max(period_start) as latest_period,
        case
            when any_value(period_grain) = 'year' or month(max(period_start)) = 12
                then year(max(period_start))
            else year(max(period_start)) - 1
        end as last_full_year,
        case
            when any_value(period_grain) = 'month' and month(max(period_start)) < 12
                then month(max(period_start))
        end as ytd_last_month
    from series
    group by edition, exhibit

),

annual as (

    select
        series.edition, series.exhibit, series.series, series.is_total,
        'year' as period_kind,
        year(series.period_start) as period_year,
        sum(series.value order by series.period_start) as value,
        bool_or(series.is_preliminary) as is_preliminary
    from series
    inner join bounds on series.edition = bounds.edition and series.exhibit = bounds.exhibit
    where year(series.period_start) between {{ var('first_year') }} - 1 and bounds.last_full_year
    group by all

),

year_to_date as (

    select
        series.edition, series.exhibit, series.series, series.is_total,
        'ytd' as period_kind,
        year(series.period_start) as period_year,
        sum(series.value order by series.period_start) as value,
        bool_or(series.is_preliminary) as is_preliminary
    from series
    inner join bounds on series.edition = bounds.edition and series.exhibit = bounds.exhibit
    where
        bounds.ytd_last_month is not null
        and month(series.period_start) <= bounds.ytd_last_month
        and year(series.period_start) between year(bounds.latest_period) - 1 and year(bounds.latest_period)
    group by all

),

periods as (

    select * from annual
    union all
    select * from year_to_date

),

-- A partner with no trade in a period has no row (the sources leave zero cells out):
-- every series of an exhibit gets every column of it, zero where it had no trade.
series_list as (

    select distinct edition, exhibit, series, is_total from periods

),

columns as (

    select distinct edition, exhibit, period_kind, period_year from periods

),

dense as (

    select
        series_list.edition, series_list.exhibit, series_list.series, series_list.is_total,
        columns.period_kind, columns.period_year,
        coalesce(periods.value, 0) as value,
        coalesce(periods.is_preliminary, false) as is_preliminary
    from series_list
    inner join columns
        on series_list.edition = columns.edition and series_list.exhibit = columns.exhibit
    left join periods
        on
            series_list.edition = periods.edition
            and series_list.exhibit = periods.exhibit
            and series_list.series = periods.series
            and columns.period_kind = periods.period_kind
            and columns.period_year = periods.period_year

),

with_prior as (

    select
        dense.*,
        lag(dense.value) over (
            partition by dense.edition, dense.exhibit, dense.series, dense.period_kind order by dense.period_year
        ) as prior_value,
        lag(dense.period_year) over (
            partition by dense.edition, dense.exhibit, dense.series, dense.period_kind order by dense.period_year
        ) as prior_year
    from dense

),

-- each column typed: its kind, its first and last day (a year, or January to the latest month)
typed as (

    select
        with_prior.*,
        bounds.latest_period,
        bounds.last_full_year,
        bounds.ytd_last_month,
        {{ year_start('with_prior.period_year') }} as period_start,
        case
            when with_prior.period_kind = 'ytd'
                then {{ month_end('with_prior.period_year', 'bounds.ytd_last_month') }}
            else {{ year_end('with_prior.period_year') }}
        end as period_end
    from with_prior
    inner join bounds on with_prior.edition = bounds.edition and with_prior.exhibit = bounds.exhibit
    -- the year before the first year and the prior-year span are only read for growth
    where
        (with_prior.period_kind = 'year' and with_prior.period_year >= {{ var('first_year') }})
        or (with_prior.period_kind = 'ytd' and with_prior.period_year = year(bounds.latest_period))

),

final as (

    select
        edition, exhibit, series, is_total,
        period_kind, period_year,
        {{ period_label('period_kind', 'period_start', 'period_end') }} as period,
        period_start,
        period_end,
        value,
        case when prior_year = period_year - 1 then prior_value end as prior_value,
        is_preliminary,
        latest_period,
        last_full_year,
        ytd_last_month,
        -- the column the partners shown are chosen by: the year to date where there is one,
        -- else the last full year
        coalesce(
            (ytd_last_month is not null and period_kind = 'ytd')
            or (ytd_last_month is null and period_kind = 'year' and period_year = last_full_year),
            false
        ) as is_ranking_column
    from typed

)

select * from final
