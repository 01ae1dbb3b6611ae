-- A failure means a download brought in a value far outside its own history: more than
-- plausibility_max_ratio_to_history (10) times the largest value of the same series (source,
-- flow, product, measure, partner) in the previous 24 months, and material (dbt_project.yml).
-- Usually a typo, a unit slip or a wrong product; the run stops before anything is published.
-- What to do: look the value up at the source. If the download is wrong, replace it (download
-- again). If the value is right, add the line the failure gives (to_accept_..., with the reason
-- and your name in place of <…>) to dbt_project/seeds/accepted_values.csv, and run again.
-- One row per value: the file and line, the series, the period, the value and its history.
{{ config(severity='error') }}

with

flags as (

    select * from {{ ref('int_checks__flags') }}
    where check_name = 'value far above its history' and not is_accepted

)

select
    failure,
    acceptance_line as to_accept_add_to_seeds_accepted_values_csv,
    source_file, source_row, partner_name, flow, product, measure, period, value,
    compared_value as history_max, ratio, threshold
from flags
order by ratio desc, source_file asc, source_row asc
