-- The value of every key as the latest download that covers it gives it, for each edition:
-- 'current' (downloads up to the as_of_date var, no limit by default) and every bulletin
-- edition in the bulletin_editions seed (downloads up to its cut-off), so a published
-- bulletin can always be rebuilt exactly.
-- A download covers the (source, flow, product, measure, period) it has rows for; a partner
-- that the covering download leaves out had no trade there (revised to zero): it has no row.
-- Incremental by coverage key: a build chooses again only the keys the changed downloads cover
-- (every key of a source whose download changed or went away), for every edition; the editions'
-- cut-offs (int_editions: the seed and the as_of_date var) are part of its signature.
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
    meta={'partition_marker': 'edition', 'incremental_vars': ['as_of_date']},
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

),

editions as (

    select * from {{ ref('int_editions') }}

),

eligible as (

    select editions.edition, observations.*
    from observations
    inner join editions
        on editions.cutoff_date is null or observations.download_date <= editions.cutoff_date

),

coverage as (

    select
        edition, source, flow, product, measure, period_grain, period_start,
        max(download_date) as covering_download_date
    from eligible
    group by all

),

resolved as (

    select
        eligible.*,
        -- the build that chose it (an incremental build's tests read the rows it wrote)
        cast(current_timestamp as timestamp) as built_at
    from eligible
    inner join coverage
        on
            eligible.edition = coverage.edition
            and eligible.source = coverage.source
            and eligible.flow = coverage.flow
            and eligible.product = coverage.product
            and eligible.measure = coverage.measure
            and eligible.period_grain = coverage.period_grain
            and eligible.period_start = coverage.period_start
            and eligible.download_date = coverage.covering_download_date

)

-- every key chosen again (in an incremental build): its rows, and a row of the key alone, so that one
-- no download covers any more is left with none
select * from resolved
union all by name
select * from affected
