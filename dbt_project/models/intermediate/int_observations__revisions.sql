-- Every value that a later download changed: for each key, the download that covered it
-- and the next download covering the same (source, flow, product, measure, period).
-- A partner that the later download leaves out was revised to zero; one it adds was
-- revised from zero. Downloads after the as_of_date var are not counted.
-- Incremental by coverage key: a build compares again only the keys the changed downloads cover
-- (every key of a source whose download changed or went away).
-- depends_on: {{ ref('int_observations__downloads') }}
-- (union all by name: a partition's marker row holds its key columns only)
-- noqa: disable=AM07
{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    unique_key=coverage_key(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ incremental_downloads_table() }}",
    post_hook="{{ record_downloads() }}",
    meta={'partition_marker': 'revision_kind'},
) }}
with

changed as (

    {{ downloads_changed() }}

),

affected as (

    {{ affected_coverage_keys(ref('int_observations__unioned')) }}

),

observations as (

    select observations.*
    from {{ ref('int_observations__unioned') }} as observations
    {{ join_affected('observations') }}
    {% if var('as_of_date') %}
        where observations.download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

downloads as (

    select distinct source, flow, product, measure, unit, period_grain, period_start, download_date
    from observations

),

successive as (

    select
        *,
        lag(download_date) over keyed as previous_download_date,
        lead(download_date) over keyed as next_download_date
    from downloads
    window keyed as (
        partition by source, flow, product, measure, period_grain, period_start
        order by download_date
    )

),

-- Each value with the downloads before and after its own that cover the same key.
placed as (

    select
        observations.source, observations.flow, observations.product, observations.measure,
        observations.period_grain, observations.period_start, observations.download_date,
        successive.previous_download_date, successive.next_download_date,
        observations.partner_name, observations.partner_code, observations.partner_key, observations.value
    from observations
    inner join successive
        on
            observations.source = successive.source
            and observations.flow = successive.flow
            and observations.product = successive.product
            and observations.measure = successive.measure
            and observations.period_grain = successive.period_grain
            and observations.period_start = successive.period_start
            and observations.download_date = successive.download_date

),

old_values as (

    select * from placed
    where next_download_date is not null

),

new_values as (

    select * from placed
    where previous_download_date is not null

),

compared as (

    select
        coalesce(o.source, n.source) as source,
        coalesce(o.flow, n.flow) as flow,
        coalesce(o.product, n.product) as product,
        coalesce(o.measure, n.measure) as measure,
        coalesce(o.period_grain, n.period_grain) as period_grain,
        coalesce(o.period_start, n.period_start) as period_start,
        coalesce(n.partner_name, o.partner_name) as partner_name,
        coalesce(o.partner_code, n.partner_code) as partner_code,
        coalesce(n.partner_key, o.partner_key) as partner_key,
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
            and o.partner_key = n.partner_key

)

select *
from compared
where coalesce(old_value, 0) <> coalesce(new_value, 0)
-- every key compared again (in an incremental build): its revisions, and a row of the key alone, so
-- that one with none any more is left with none
union all by name
select * from affected
