-- A failure means a download brought in a value that jumps from the period before as its series
-- never did: more than plausibility_jump_factor (5) times the largest period-on-period ratio of
-- the series before it (12 ratios of history at least), more than 3 times the period before,
-- and material (dbt_project.yml). A typo or a unit slip; the run stops before anything is
-- published.
-- What to do: look the value up at the source. If the download is wrong, replace it. If the
-- value is right, add the line the failure gives (to_accept_..., with the reason and your name
-- in place of <…>) to dbt_project/seeds/accepted_values.csv, and run again.
-- One row per value: the file and line, the series, the period, the value, the period before and
-- the largest ratio of the series' history.
{{ config(severity='error') }}

with

flags as (

    select * from {{ ref('int_checks__flags') }}
    where check_name = 'jump the series never showed' and not is_accepted

)

select
    failure,
    acceptance_line as to_accept_add_to_seeds_accepted_values_csv,
    source_file, source_row, partner_name, flow, product, measure, period, value,
    compared_value as previous_value, ratio, threshold
from flags
order by ratio / threshold desc, source_file, source_row asc
