-- Taiwan's trade from the customs portal, one row per download, flow, HS code, country and month.
with

source as (

    select * from {{ source('customs', 'customs_trade') }}

),

flows as (

    select * from {{ ref('customs_flows') }}

),

partners as (

    select * from {{ ref('partner_names_customs') }}

),

renamed as (

    select
        'customs' as source,
        'TW' as reporter_code,
        coalesce(flows.flow, source.flow) as flow,
        source.flow as flow_zh,
        source.hs_code,
        source.period_month,
        source.period_label,
        source.is_preliminary,
        source.partner_name,
        partners.partner_code,
        partners.partner_kind,
        cast(source.value_usd_thousand as double) as value_usd_thousand,
        source.download_date,
        source.source_file,
        source.source_row
    from source
    left join flows on source.flow = flows.flow_zh
    left join partners on source.partner_name = partners.partner_name

)

select * from renamed
