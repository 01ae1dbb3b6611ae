-- The revisions behind the exhibits of the current edition: every period of an exhibit's
-- source (its flow, the edition's product, its measure) whose values a later download
-- changed, with the two downloads and how many values changed (int_observations__revisions:
-- a value changed, revised to zero or added). The publication reports a printed cell as
-- revised by those of its exhibit, by downloads after the previous publication's, whose
-- period is one the cell is computed from (revisions.csv, the draft's 修正說明).
with

exhibit_keys as (

    select * from {{ ref('int_bulletin__exhibit_keys') }}
    where edition = 'current'

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

revisions as (

    select * from {{ ref('int_observations__revisions') }}

),

exhibit_revisions as (

    select
        exhibit_keys.exhibit,
        exhibits.exhibit_order,
        revisions.source,
        revisions.period_grain,
        revisions.period_start,
        revisions.old_download_date,
        revisions.new_download_date,
        count(*) as revised_values
    from revisions
    inner join exhibit_keys
        on
            revisions.source = exhibit_keys.source
            and revisions.flow = exhibit_keys.flow
            and revisions.product = exhibit_keys.product
            and revisions.measure = exhibit_keys.measure
    inner join exhibits on exhibit_keys.exhibit = exhibits.exhibit
    group by
        exhibit_keys.exhibit, exhibits.exhibit_order, revisions.source, revisions.period_grain,
        revisions.period_start, revisions.old_download_date, revisions.new_download_date

)

select * from exhibit_revisions
order by exhibit_order, period_start, old_download_date, new_download_date
