-- A failure means the last month of a download lists fewer than completeness_cut_min_ratio (half)
-- of the partners the months before it have (the median of the 12 before, in the current
-- vintages; dbt_project.yml): a file copied while the browser was still writing it, cut at a line
-- end. The partners after the cut would be revised to zero. The run stops before anything is
-- published.
-- What to do: download again and replace the file; if the month really has so few partners, add
-- the line given (partner *) to dbt_project/seeds/accepted_values.csv.
-- One row per download and (flow, product, measure): the file, the month, its partners and the
-- usual number.
{{ config(severity='error') }}

with

flags as (

    select * from {{ ref('int_checks__flags') }}
    where check_name = 'download cut short' and not is_accepted

)

select
    failure,
    acceptance_line as to_accept_add_to_seeds_accepted_values_csv,
    source_file, download_date, flow, product, measure, period, partners,
    compared_partners as usual_partners
from flags
order by source_file, flow, product, period
