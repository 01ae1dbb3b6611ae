-- The downloads each exhibit of the current edition used: every file whose values went into an
-- exhibit's series for the periods it prints (from the year before the first year, which its
-- growth rates read), with the periods each file gave.
with

observations as (

    select * from {{ ref('int_bulletin__series_observations') }}

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

used as (

    select
        observations.exhibit,
        any_value(exhibits.exhibit_order) as exhibit_order,
        observations.source,
        observations.download_date,
        observations.source_file,
        any_value(observations.period_grain) as period_grain,
        min(observations.period_start) as first_period_start,
        max(observations.period_start) as last_period_start,
        count(*) as observations
    from observations
    inner join exhibits on observations.exhibit = exhibits.exhibit
    where
        observations.edition = 'current'
        and year(observations.period_start) >= {{ var('first_year') }} - 1
    group by observations.exhibit, observations.source, observations.download_date, observations.source_file

)

select * from used
order by exhibit_order, download_date, source_file
