-- The product the current edition is built for (the hs_code var): its HS code, its name and
-- MOEA survey product from the products seed (none: no Figure 1), the edition's cut-off (the
-- as_of_date var), and the latest download the edition uses for the product (the date the
-- publication stamps on its files). One row.
with

editions as (

    select * from {{ ref('int_editions') }}
    where edition = 'current'

),

products as (

    select * from {{ ref('products') }}

),

-- the product as each source holds it (its HS code; the MOEA survey's product)
source_products as (

    select distinct edition, source, product from {{ ref('int_bulletin__exhibit_keys') }}

),

vintaged as (

    select * from {{ ref('int_observations__vintaged') }}

),

used as (

    select max(vintaged.download_date) as data_date
    from vintaged
    inner join source_products
        on
            vintaged.edition = source_products.edition
            and vintaged.source = source_products.source
            and vintaged.product = source_products.product
    where vintaged.edition = 'current'

),

final as (

    select
        editions.edition,
        editions.hs_code,
        products.product_zh,
        products.moea_product,
        editions.cutoff_date,
        used.data_date
    from editions
    cross join used
    left join products on editions.hs_code = products.hs_code

)

select * from final
