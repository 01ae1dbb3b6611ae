-- A failure means the MOEA series behind Figure 1 holds a value the survey suppressed ('*'):
-- the bulletin would print a number built without it. One row per such cell, naming the file,
-- the cell, the product and the month: ask MOEA's Department of Statistics for the value, or
-- take a download in which it is published.
-- The series is the survey product the products seed maps the run's hs_code var to, and the
-- measure the MOEA exhibit reads (bulletin_exhibits: 生產值(千元)), from the year before the
-- first_year var on, in the download each edition uses for that month (a later download that
-- publishes the value clears it). A '*' in any other product or measure is no failure.
-- It reads the staging model, the seed and the vintages: meta.dagster.ref shows it in Dagster
-- as a check on stg_moea__production.
{{ config(severity='error', meta={'dagster': {'ref': {'name': 'stg_moea__production'}}}) }}

with

production as (

    select * from {{ ref('stg_moea__production') }}

),

products as (

    select * from {{ ref('products') }}

),

-- the measures the exhibits read from the survey
moea_measures as (

    select distinct source_measure as measure from {{ ref('bulletin_exhibits') }}
    where source = 'moea'

),

vintaged as (

    select * from {{ ref('int_observations__vintaged') }}
    where source = 'moea'

),

suppressed as (

    select production.*
    from production
    inner join products
        on
            production.product_name = products.moea_product
            and products.hs_code = '{{ var("hs_code") }}'
    inner join moea_measures on production.measure = moea_measures.measure
    where
        production.value_status = 'suppressed'
        and year(production.period_month) >= {{ var('first_year') }} - 1

),

used as (

    select
        suppressed.source_file,
        suppressed.source_cell,
        suppressed.product_name,
        suppressed.period_label,
        suppressed.measure,
        suppressed.product_code,
        suppressed.source_row,
        string_agg(distinct vintaged.edition, ', ' order by vintaged.edition) as editions
    from suppressed
    inner join vintaged
        on
            suppressed.source_file = vintaged.source_file
            and suppressed.source_row = vintaged.source_row
            and suppressed.product_name = vintaged.product
            and suppressed.measure = vintaged.measure
    group by all

)

select * from used
order by source_file, source_row, source_cell
