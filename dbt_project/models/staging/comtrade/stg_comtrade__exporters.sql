-- Exporters of one product by year from UN Comtrade's API: each reporter's exports to the
-- World. UN Comtrade has no World reporter: the world total is the sum of the countries (the
-- partner_names_comtrade seed marks the European Union, which reports beside its members, an
-- aggregate). Values in US$ thousand, as ITC Trade Map's, so that Table 3 prints them alike.
with

source as (

    select * from {{ source('comtrade', 'comtrade_exporters') }}

),

partners as (

    select * from {{ ref('partner_names_comtrade') }}

),

renamed as (

    select
        'comtrade' as source,
        source.flow,
        source.hs_code,
        source.period_year,
        source.period_label,
        source.reporter_code,
        -- the seed's name where it maps the code, else the answer's reporterDesc, else the code
        coalesce(partners.partner_name, source.reporter_desc, 'reporter ' || source.reporter_code)
            as exporter_name,
        partners.partner_code as exporter_code,
        partners.partner_kind as exporter_kind,
        cast(source.value_usd as double) / 1000 as value_usd_thousand,
        source.download_date,
        source.source_file,
        source.source_row
    from source
    left join partners on source.reporter_code = partners.source_code

)

select * from renamed
