-- A failure means the pipeline no longer reproduces a number bulletin No. 459 printed.
-- The cells are rebuilt from the data as it stood on the bulletin's cut-off (edition 459 of
-- int_bulletin__cells: downloads dated on or before 2024-10-14), so later downloads and their
-- revisions never break it. One row per printed cell that is missing, or differs in value or
-- in decimals, naming the cell.
-- It reads the seed and int_bulletin__cells: meta.dagster.ref shows it in Dagster as a check
-- on int_bulletin__cells (a test with two parents is otherwise no asset's check).
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'int_bulletin__cells'}}}) }}

with

printed as (

    select * from {{ ref('bulletin_459_printed_cells') }}

),

rebuilt as (

    select * from {{ ref('int_bulletin__cells') }}
    where edition = '459'

),

compared as (

    select
        printed."table", printed.measure, printed.series, printed.period,
        printed.value as printed_value,
        printed.decimals as printed_decimals,
        rebuilt.value as rebuilt_value,
        rebuilt.decimals as rebuilt_decimals,
        rebuilt.value_exact as rebuilt_value_exact,
        case
            when rebuilt.value is null then 'missing'
            when abs(rebuilt.value - printed.value) > 1e-9 then 'value differs'
            when rebuilt.decimals <> printed.decimals then 'decimals differ'
        end as fault
    from printed
    left join rebuilt
        on
            printed."table" = rebuilt."table"
            and printed.measure = rebuilt.measure
            and printed.series = rebuilt.series
            and printed.period = rebuilt.period

)

select
    fault || ': ' || "table" || '/' || measure || '/' || series || '/' || period
    || ' printed ' || printed_value || ' (' || printed_decimals || ' dp), rebuilt '
    || coalesce(cast(rebuilt_value as varchar), 'nothing') as cell,
    *
from compared
where fault is not null
