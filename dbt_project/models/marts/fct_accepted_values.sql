-- The acceptances the current run used: every flag of the plausibility gates and download checks
-- that a statistician checked and accepted in the accepted_values seed, with the value, what it
-- was compared with and who accepted it. manifest.json lists them (accepted_values).
with

flags as (

    select * from {{ ref('int_checks__flags') }}

)

select
    check_name, source, source_file, source_row, flow, product, measure, partner_name, period,
    value, compared_value, failure as finding, accepted_reason, accepted_by
from flags
where is_accepted
order by source, source_file, flow, product, measure, partner_name, period, check_name
