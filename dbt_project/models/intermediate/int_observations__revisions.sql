-- Every value that a later download changed: for each key, the download that covered it
-- and the next download covering the same (source, flow, product, measure, period).
-- A partner that the later download leaves out was revised to zero; one it adds was
-- revised from zero. Downloads after the as_of_date var are not counted.
with

observations as (

    select * from {{ ref('int_observations__unioned') }}
    {% if var('as_of_date') %}
    where download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

downloads as (

    select distinct source, flow, product, measure, unit, period_grain, period_start, download_date
    from observations

),

successive as (

    select
        *,
        lead(download_date) over (
            partition by source, flow, product, measure, period_grain, period_start
            order by download_date
        ) as next_download_date
    from downloads

),

old_values as (

    select
        successive.source, successive.flow, successive.product, successive.measure, successive.unit,
        successive.period_grain, successive.period_start,
        successive.download_date, successive.next_download_date,
        observations.partner_name, observations.partner_code, observations.value
    from successive
    inner join observations
        on
            successive.source = observations.source
            and successive.flow = observations.flow
            and successive.product = observations.product
            and successive.measure = observations.measure
            and successive.period_grain = observations.period_grain
            and successive.period_start = observations.period_start
            and successive.download_date = observations.download_date
    where successive.next_download_date is not null

),

new_values as (

    select
        successive.source, successive.flow, successive.product, successive.measure,
        successive.period_grain, successive.period_start,
        successive.download_date as previous_download_date,
        observations.download_date,
        observations.partner_name, observations.partner_code, observations.value
    from successive
    inner join observations
        on
            successive.source = observations.source
            and successive.flow = observations.flow
            and successive.product = observations.product
            and successive.measure = observations.measure
            and successive.period_grain = observations.period_grain
            and successive.period_start = observations.period_start
            and successive.next_download_date = observations.download_date

),

compared as (

    select
        coalesce(o.source, n.source) as source,
        coalesce(o.flow, n.flow) as flow,
        coalesce(o.product, n.product) as product,
        coalesce(o.measure, n.measure) as measure,
        coalesce(o.period_grain, n.period_grain) as period_grain,
        coalesce(o.period_start, n.period_start) as period_start,
        coalesce(o.partner_name, n.partner_name) as partner_name,
        coalesce(o.partner_code, n.partner_code) as partner_code,
        o.value as old_value,
        n.value as new_value,
        coalesce(o.download_date, n.previous_download_date) as old_download_date,
        coalesce(n.download_date, o.next_download_date) as new_download_date,
        case
            when n.value is null then 'revised to zero'
            when o.value is null then 'added'
            else 'changed'
        end as revision_kind
    from old_values as o
    full outer join new_values as n
        on
            o.source = n.source
            and o.flow = n.flow
            and o.product = n.product
            and o.measure = n.measure
            and o.period_grain = n.period_grain
            and o.period_start = n.period_start
            and o.next_download_date = n.download_date
            and o.partner_name = n.partner_name

)

select *
from compared
where coalesce(old_value, 0) <> coalesce(new_value, 0)
