-- The value of every key as the latest download that covers it gives it, for each edition:
-- 'current' (downloads up to the as_of_date var, no limit by default) and every bulletin
-- edition in the bulletin_editions seed (downloads up to its cut-off), so a published
-- bulletin can always be rebuilt exactly.
-- A download covers the (source, flow, product, measure, period) it has rows for; a partner
-- that the covering download leaves out had no trade there (revised to zero): it has no row.
with

observations as (

    select * from {{ ref('int_observations__unioned') }}

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

    select eligible.*
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

select * from resolved
