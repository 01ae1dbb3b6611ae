-- A failure means a later download revised a value by more than revision_max_ratio (20 times up
-- or down, or to or from zero), moving at least revision_material_share (1%) of the period's
-- total (dbt_project.yml). Revisions of this size are slips far more often than news; the run
-- stops before anything is published.
-- What to do: compare the two downloads with the source. If the later download is wrong,
-- replace it. If the revision is right, add the line the failure gives (to_accept_..., with the
-- reason and your name in place of <…>) to dbt_project/seeds/accepted_values.csv, and run again.
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
    acceptance_line as to_accept_add_to_seeds_accepted_values_csv,
    source_file, source_row, partner_name, flow, product, measure, period,
    value as new_value, compared_value as old_value, ratio, threshold
from flags
order by ratio desc, source_file asc, source_row asc
