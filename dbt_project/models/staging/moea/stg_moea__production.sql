-- Taiwan's industrial production survey: every product, month and measure, in the survey's own units.
-- A cell the survey leaves without a value ('-', no value) or suppresses ('*') has a null value and
-- says which in value_status.
with

source as (

    select * from {{ source('moea', 'moea_production') }}

),

renamed as (

    select
        'moea' as source,
        source.period_month,
        source.period_label,
        source.product_code,
        source.product_name,
        source.unit as quantity_unit,
        source.measure,
        case
            when source.measure like '%(千元)' then 'NTD thousand'
            else source.unit
        end as measure_unit,
        cast(source.value as double) as value_in_measure_unit,
        source.value_status,
        source.download_date,
        source.source_file,
        source.source_row,
        source.source_cell
    from source

)

select * from renamed
