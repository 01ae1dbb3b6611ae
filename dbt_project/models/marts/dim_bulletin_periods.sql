-- Every period the current publication prints, typed: its code (as the cells, the marts and
-- the published files write it), its kind (year, ytd, span) and its first and last day. The
-- exhibits' columns and the mirror check's rows; the publication heads its columns from here,
-- and never reads a code back.
with

cells as (

    select * from {{ ref('int_bulletin__cells') }}
    where edition = 'current'

),

mirror as (

    select * from {{ ref('int_bulletin__mirror') }}

),

unioned as (

    select period, period_kind, period_start, period_end from cells
    union
    select period, period_kind, period_start, period_end from mirror

)

select * from unioned
order by period_kind, period_start, period_end
