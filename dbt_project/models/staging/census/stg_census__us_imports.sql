-- US imports by partner and month from the US Census Bureau's international trade API; the
-- TOTAL FOR ALL COUNTRIES row is the total (partner_code WORLD), the regions and trade groups
-- beside the countries are aggregates: the partner_names_census seed maps each CTY_CODE.
with

source as (

    select * from {{ source('census', 'census_us_imports') }}

),

partners as (

    select * from {{ ref('partner_names_census') }}

),

renamed as (

    select
        'census' as source,
        'US' as reporter_code,
        'import' as flow,
        source.hs_code,
        source.period_month,
        source.period_label,
        source.cty_code,
        -- the seed's name where it maps the code (one name whatever an answer spells), else the answer's
        coalesce(partners.partner_name, source.cty_name) as partner_name,
        partners.partner_code,
        partners.partner_kind,
        'USD' as unit,
        cast(source.value_usd as double) as value_usd,
        source.download_date,
        source.source_file,
        source.source_row
    from source
    left join partners on source.cty_code = partners.source_code

)

select * from renamed
