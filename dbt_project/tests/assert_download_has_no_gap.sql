-- A failure means a download has a month missing in the middle of the months it covers for a
-- flow and product (no row at all for it): the query was cut into pieces, or a piece was lost.
-- Left in, the month keeps an earlier download's values, or none, and the year-to-date column
-- silently skips it. The run stops before anything is published.
-- What to do: download the whole span again and replace the download; if the source really has
-- nothing for that month, add the line given (partner *) to dbt_project/seeds/accepted_values.csv.
-- One row per missing month: the download, its file, the flow and product, the month.
{{ config(severity='error') }}

with

flags as (

    select * from {{ ref('int_checks__flags') }}
    where check_name = 'download has a gap' and not is_accepted

)

select
    failure,
    acceptance_line as to_accept_add_to_seeds_accepted_values_csv,
    source_file, download_date, flow, product, measure, period
from flags
order by source_file, flow, product, period
