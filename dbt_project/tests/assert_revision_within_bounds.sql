-- A failure means a later download revised a value by more than revision_max_ratio (it more than
-- doubled or halved it, or turned it to or from zero), moving at least revision_material_share
-- (1%) of the period's total (dbt_project.yml). Revisions of this size are errors far more
-- often than news; the run stops before anything is published.
-- What to do: compare the two downloads with the source. If the later download is wrong, replace
-- it; if the revision is right, add the line given (accepted_values_csv_line, with the reason and
-- your name) to dbt_project/seeds/accepted_values.csv, and run again.
-- One row per revised value: the new download's file and line (the file alone for a value
-- revised to zero), the series, the period, the new and the old value and their downloads.
{{ config(severity='error') }}

with

flags as (

    select * from {{ ref('int_checks__flags') }}
    where check_name = 'revision beyond its bounds' and not is_accepted

)

select
    failure,
    acceptance_line as accepted_values_csv_line,
    source_file, source_row, partner_name, flow, product, measure, period,
    value as new_value, compared_value as old_value, ratio, threshold
from flags
order by ratio desc, source_file asc, source_row asc
