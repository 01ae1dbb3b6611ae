-- Every cell of every exhibit, per edition, from unrounded values: the value, growth on the
-- same period a year earlier, share of the exhibit's total, compound average growth from the
-- first year to the last full year, and the change of share over that span; rounded once,
-- at the end, by the bulletin's printing rule. Which partners show is chosen by the data:
-- the exhibit's top_n largest in its latest column (the year-to-date span where there is one).
-- What an exhibit prints (its measures, its kinds of column, its total's label, its unit and
-- decimals, its order) is the bulletin_exhibits seed's. Every cell's period is typed (kind,
-- first and last day) and its code made from them (period_label macro).
with

periods as (

    select * from {{ ref('int_bulletin__periods') }}

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

partners as (

    select * from {{ ref('partners') }}

),

ranked as (

    select
        edition, exhibit, series,
        row_number() over (partition by edition, exhibit order by value desc, series asc) as series_rank
    from periods
    where
        not is_total and is_ranking_column

),

shown_series as (

    select distinct edition, exhibit, series, 0 as series_rank
    from periods
    where is_total

    union all

    select ranked.edition, ranked.exhibit, ranked.series, ranked.series_rank
    from ranked
    inner join exhibits on ranked.exhibit = exhibits.exhibit
    where ranked.series_rank <= exhibits.top_n

),

shown as (

    select periods.*, shown_series.series_rank
    from periods
    inner join shown_series
        on
            periods.edition = shown_series.edition
            and periods.exhibit = shown_series.exhibit
            and periods.series = shown_series.series

),

totals as (

    select edition, exhibit, period_kind, period_year, value as total_value
    from periods
    where is_total

),

with_totals as (

    select shown.*, totals.total_value
    from shown
    inner join totals
        on
            shown.edition = totals.edition
            and shown.exhibit = totals.exhibit
            and shown.period_kind = totals.period_kind
            and shown.period_year = totals.period_year

),

first_and_last as (

    select
        edition, exhibit, series, series_rank, is_total,
        any_value(last_full_year) as last_full_year,
        max(case when period_year = {{ var('first_year') }} then value end) as first_value,
        max(case when period_year = last_full_year then value end) as last_value,
        max(case when period_year = {{ var('first_year') }} then value / nullif(total_value, 0) end)
        * 100 as first_share,
        max(case when period_year = last_full_year then value / nullif(total_value, 0) end)
        * 100 as last_share,
        bool_or(is_preliminary and period_year = last_full_year) as is_preliminary
    from with_totals
    where period_kind = 'year'
    group by edition, exhibit, series, series_rank, is_total

),

measures as (

    select
        edition, exhibit, series, series_rank, is_total, period_kind, period_year, period_start, period_end,
        'value' as measure, value as value_exact, is_preliminary
    from with_totals

    union all

    select
        edition, exhibit, series, series_rank, is_total, period_kind, period_year, period_start, period_end,
        'yoy_pct', (value / prior_value - 1) * 100, is_preliminary
    from with_totals
    where prior_value > 0

    union all

    select
        edition, exhibit, series, series_rank, is_total, period_kind, period_year, period_start, period_end,
        'share_pct', value / total_value * 100, is_preliminary
    from with_totals
    where total_value > 0

    union all

    select
        edition, exhibit, series, series_rank, is_total, 'span', last_full_year,
        {{ year_start(var('first_year') ~ ' + 1') }}, {{ year_end('last_full_year') }},
        'avg_growth_pct',
        (power(last_value / first_value, 1.0 / (last_full_year - {{ var('first_year') }})) - 1) * 100,
        is_preliminary
    from first_and_last
    where first_value > 0 and last_full_year > {{ var('first_year') }}

    union all

    select
        edition, exhibit, series, series_rank, is_total, 'span', last_full_year,
        {{ year_start(var('first_year')) }}, {{ year_end('last_full_year') }},
        'share_change_pp',
        last_share - first_share,
        is_preliminary
    from first_and_last
    where
        not is_total and last_full_year > {{ var('first_year') }}
        and first_share is not null and last_share is not null

),

selected as (

    select
        measures.*, exhibits.exhibit_order, exhibits.value_unit, exhibits.value_decimals,
        exhibits.total_label_zh
    from measures
    inner join exhibits
        on
            measures.exhibit = exhibits.exhibit
            and list_contains(string_split(exhibits.measures, ' '), measures.measure)
            and list_contains(string_split(exhibits.period_kinds, ' '), measures.period_kind)

),

printed as (

    select
        selected.edition,
        selected.exhibit as "table",
        selected.measure,
        selected.series,
        case when selected.is_total then selected.total_label_zh else partners.label_zh end as series_zh,
        {{ period_label('selected.period_kind', 'selected.period_start', 'selected.period_end') }} as period,
        {{ printed_value('selected.value_exact', printed_decimals('selected.value_exact', 'selected.measure', 'selected.value_decimals')) }}
            as value,
        {{ printed_decimals('selected.value_exact', 'selected.measure', 'selected.value_decimals') }}
            as decimals,
        selected.value_exact,
        case selected.measure
            when 'value' then selected.value_unit
            when 'share_change_pp' then 'percentage points'
            else 'percent'
        end as unit,
        selected.is_preliminary,
        selected.exhibit_order,
        selected.series_rank,
        case selected.measure
            when 'value' then 1 when 'yoy_pct' then 2 when 'share_pct' then 3
            when 'avg_growth_pct' then 4 else 5
        end as measure_order,
        case selected.period_kind when 'year' then 1 when 'ytd' then 2 else 3 end * 10000
        + selected.period_year as period_order,
        selected.period_kind,
        selected.period_start,
        selected.period_end
    from selected
    left join partners on selected.series = partners.partner_code

)

select * from printed
