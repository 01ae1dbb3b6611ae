-- What each exhibit reads, per edition: the source, flow, product and measure of the
-- observations its series take in, from the bulletin_exhibits seed and the edition's HS code
-- (the trade sources' product is the HS code; the MOEA survey's, the product the products
-- seed maps it to). The source and how the total is formed are the edition's
-- (int_bulletin__exhibit_sources: the exhibit's own, or the one its source var chooses). An
-- exhibit whose product the edition has none of has no row.
with

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

exhibit_sources as (

    select * from {{ ref('int_bulletin__exhibit_sources') }}

),

editions as (

    select * from {{ ref('int_editions') }}

),

products as (

    select * from {{ ref('products') }}

),

keyed as (

    select
        editions.edition,
        exhibits.exhibit,
        exhibit_sources.source,
        exhibits.flow,
        case exhibits.product_from
            when 'hs_code' then editions.hs_code
            when 'moea_product' then products.moea_product
        end as product,
        exhibits.source_measure as measure,
        exhibit_sources.total_from,
        exhibits.total_series,
        exhibits.top_n
    from exhibits
    cross join editions
    inner join exhibit_sources
        on exhibits.exhibit = exhibit_sources.exhibit and editions.edition = exhibit_sources.edition
    left join products on editions.hs_code = products.hs_code

)

select * from keyed
where product is not null
