-- A failure means an exhibit has a period without its total (or world) series: shares of
-- that period cannot be computed, and the table would print without its first row.
with

cells as (

    select * from {{ ref('fct_bulletin_cells') }}
    where measure = 'value'

)

select "table", period
from cells
group by "table", period
having count(*) filter (where series in ('total', 'world')) <> 1
