-- The series each exhibit is built from, per edition, in the exhibit's printing unit
-- (億, 100 million) and unrounded: one row per edition, exhibit, series and period
-- (month, or year for ITC), summed from int_bulletin__series_observations.
with

unioned as (

    select * from {{ ref('int_bulletin__series_observations') }}

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

in_print_units as (

    select
        unioned.edition,
        unioned.exhibit,
        unioned.series,
        unioned.series = exhibits.total_series as is_total,
        unioned.period_grain,
        unioned.period_start,
        -- ordered sums: floating-point addition in a fixed order gives the same last bits every run
        sum(unioned.value order by unioned.value) / any_value(exhibits.value_divisor) as value,
        bool_or(unioned.is_preliminary) as is_preliminary
    from unioned
    inner join exhibits on unioned.exhibit = exhibits.exhibit
    group by all

)

select * from in_print_units
