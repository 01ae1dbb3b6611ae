-- The bulletin's exhibits as the publication reads them: the bulletin_exhibits seed's
-- definition of each (code, order, number, title, source, mart, unit, partners shown, total,
-- measures, kinds of column) with what the current edition holds of it: the source it is
-- built from (its own, or the one its source var chooses), the grain of that source, its
-- latest period, the preliminary months its series hold and its printed cells.
with

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

exhibit_sources as (

    select * from {{ ref('int_bulletin__exhibit_sources') }}
    where edition = 'current'

),

series as (

    select * from {{ ref('int_bulletin__series') }}
    where edition = 'current'

),

periods as (

    select * from {{ ref('int_bulletin__periods') }}
    where edition = 'current'

),

cells as (

    select * from {{ ref('int_bulletin__cells') }}
    where edition = 'current'

),

series_months as (

    select
        exhibit,
        any_value(period_grain) as period_grain,
        list(distinct period_start order by period_start) filter (where is_preliminary) as preliminary_months
    from series
    group by exhibit

),

latest as (

    select exhibit, max(latest_period) as latest_period
    from periods
    group by exhibit

),

printed as (

    select "table" as exhibit, count(*) as cells
    from cells
    group by "table"

),

final as (

    select
        exhibits.exhibit,
        exhibits.exhibit_order,
        exhibits.exhibit_number,
        exhibits.title_zh,
        exhibit_sources.source,
        exhibits.mart,
        exhibits.value_unit,
        exhibits.top_n,
        exhibits.total_series,
        exhibits.measures,
        exhibits.period_kinds,
        series_months.period_grain,
        latest.latest_period,
        coalesce(series_months.preliminary_months, []) as preliminary_months,
        coalesce(printed.cells, 0) as cells
    from exhibits
    inner join exhibit_sources on exhibits.exhibit = exhibit_sources.exhibit
    left join series_months on exhibits.exhibit = series_months.exhibit
    left join latest on exhibits.exhibit = latest.exhibit
    left join printed on exhibits.exhibit = printed.exhibit

)

select * from final
order by exhibit_order
