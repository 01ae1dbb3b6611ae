-- A failure means a partner name of a download is in no seed but cannot change a printed cell
-- (a warning: the build goes on): its value, which stays in the source's total, would not rank
-- it among the partners shown, and its exhibit's total is not summed from partners. What to
-- do: add it to the seed in add_it_to (see also marts.fct_unmapped_partner_names and the
-- publication's manifest.json, unmapped_names, with a proposed code).
{{ config(severity='warn') }}

with

unmapped as (

    select * from {{ ref('int_partners__unmapped') }}
    where not could_change_printed_cell

)

select
    source || ' name "' || partner_name || '"' as unmapped_name,
    seed_file as add_it_to,
    coalesce(
        exhibit || ': value ' || format('{:,.0f}', value_in_latest_period) || ' ' || unit
        || ' in ' || latest_period || ', rank ' || rank_would_have || ', not shown',
        'in no printed column'
    ) as why,
    coalesce('proposed code ' || proposed_code || ' (' || proposed_from || ')', 'no code proposed') as proposal,
    first_source_file
from unmapped
