-- A failure means the series of an exhibit have a larger share than the total: a partner was
-- counted twice (e.g. China and Hong Kong both alone and as CN+HK) or the total is wrong.
with

cells as (

    select * from {{ ref('fct_bulletin_cells') }}
    where measure = 'share_pct' and series not in ('total', 'world')

)

select "table", period, sum(value_exact) as shown_share
from cells
group by "table", period
having sum(value_exact) > 100 + 1e-9
