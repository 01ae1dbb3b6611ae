-- A failure means a later download lacks partners that the earlier download of the same periods
-- had: those it lacks held more than completeness_max_lost_share (10%) of the earlier total, or
-- it lists fewer than half the earlier download's partners (dbt_project.yml). Typically a query
-- filtered to one country: the vintage rule would revise every other partner to zero. The run
-- stops before anything is published.
-- What to do: download the same query again with every partner (country) and replace the
-- download; if the partners really had no trade, add the line given (partner *) for each period
-- to dbt_project/seeds/accepted_values.csv.
-- One row per pair of downloads and (flow, product, measure): both downloads, how many partners
-- each lists in the worst period, and how many periods are affected.
{{ config(severity='error') }}

with

flags as (

    select * from {{ ref('int_checks__flags') }}
    where check_name = 'download lacks partners' and not is_accepted

),

by_download as (

    select
        source, flow, product, measure, download_date, source_file, compared_download_date, compared_file,
        count(*) as periods,
        min(period) as first_period,
        max(period) as last_period,
        arg_max(failure, ratio) as worst_failure,
        arg_max(acceptance_line, ratio) as worst_acceptance_line,
        arg_max(partners, ratio) as partners,
        arg_max(compared_partners, ratio) as compared_partners,
        max(ratio) as lost_share
    from flags
    group by all

)

select
    worst_failure
    || case
        when periods > 1 then format(' (one of {} periods so affected, {} to {})', periods, first_period, last_period)
        else ''
    end as failure,
    worst_acceptance_line as to_accept_add_to_seeds_accepted_values_csv,
    source_file, compared_file, partners, compared_partners, lost_share, periods, first_period, last_period
from by_download
order by lost_share desc, source_file asc, flow asc, product asc
