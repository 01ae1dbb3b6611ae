-- Exporters of one product by year from ITC Trade Map; the World row is the world total.
with

source as (

    select * from {{ source('itc', 'itc_exporters') }}

),

products as (

    select * from {{ ref('itc_products') }}

),

partners as (

    select * from {{ ref('partner_names_itc') }}

),

renamed as (

    select
        'itc' as source,
        'export' as flow,
        source.product_description,
        -- The page's Product line gives the code; a file named only by its description
        -- (the text export) is looked up in the itc_products seed.
        coalesce(source.product_code, cast(products.hs_code as varchar)) as hs_code,
        source.period_year,
        source.period_label,
        source.exporter_name,
        partners.partner_code as exporter_code,
        partners.partner_kind as exporter_kind,
        cast(source.value_usd_thousand as double) as value_usd_thousand,
        source.download_date,
        source.source_file,
        source.source_row
    from source
    left join products on source.product_description = products.product_description
    left join partners on source.exporter_name = partners.partner_name

)

select * from renamed
