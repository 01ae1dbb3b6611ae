-- A failure means a partner name that no seed maps could change a printed cell: its value in
-- the exhibit's latest column would rank it among the partners the exhibit shows, or the
-- exhibit's total is the sum of its partners (customs, Table 1), where an unknown name might be
-- an aggregate counted twice. What to do: add the name to the seed in add_it_to, with its code
-- and partner_kind (country, aggregate, former, other_territory; a new code also to
-- partners.csv with its label), and run again. Names that cannot change a printed cell do not
-- fail the build: assert_every_partner_name_is_in_a_seed lists them as a warning.
with

unmapped as (

    select * from {{ ref('int_partners__unmapped') }}
    where could_change_printed_cell

)

select
    source || ' name "' || partner_name || '"' as unmapped_name,
    seed_file as add_it_to,
    case
        when total_is_sum
            then exhibit || ': its total is the sum of every partner, this name included'
        else
            exhibit || ': value ' || format('{:,.0f}', value_in_latest_period) || ' ' || unit
            || ' in ' || latest_period || ' would rank ' || rank_would_have
            || ' (' || top_n || ' partners shown, the smallest '
            || format('{:,.0f}', smallest_shown_value) || ')'
    end as why,
    coalesce('proposed code ' || proposed_code || ' (' || proposed_from || ')', 'no code proposed') as proposal,
    first_source_file,
    editions_changed
from unmapped
