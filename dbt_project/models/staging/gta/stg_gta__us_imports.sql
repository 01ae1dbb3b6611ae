-- US imports by partner and month from Global Trade Atlas; the World row is the total.
with

source as (

    select * from {{ source('gta', 'gta_us_imports') }}

),

partners as (

    select * from {{ ref('partner_names_gta') }}

),

renamed as (

    select
        'gta' as source,
        case source.reporter when 'United States' then 'US' else source.reporter end as reporter_code,
        case lower(source.flow) when 'imports' then 'import' when 'exports' then 'export' end as flow,
        source.hs_code,
        source.period_month,
        source.period_label,
        source.partner_name,
        partners.partner_code,
        partners.partner_kind,
        source.unit,
        cast(source.value_usd as double) as value_usd,
        source.download_date,
        source.source_file,
        source.source_row
    from source
    left join partners on source.partner_name = partners.partner_name

)

select * from renamed
