-- Every observation of the four sources in one long form, every download kept.
-- The vintage key is (source, flow, product, measure, period, partner_name); the
-- coverage key, what one download covers, is the same without the partner.
with

customs as (

    select * from {{ ref('stg_customs__trade') }}

),

gta as (

    select * from {{ ref('stg_gta__us_imports') }}

),

itc as (

    select * from {{ ref('stg_itc__exporters') }}

),

moea as (

    select * from {{ ref('stg_moea__production') }}

),

unioned as (

    select
        source, flow, hs_code as product, 'value' as measure, 'USD thousand' as unit,
        'month' as period_grain, period_month as period_start, is_preliminary,
        partner_name, partner_code, partner_kind, value_usd_thousand as value,
        download_date, source_file, source_row
    from customs

    union all

    select
        source, flow, hs_code, 'value', 'USD',
        'month', period_month, false,
        partner_name, partner_code, partner_kind, value_usd,
        download_date, source_file, source_row
    from gta

    union all

    select
        source, flow, hs_code, 'value', 'USD thousand',
        'year', make_date(period_year, 1, 1), false,
        exporter_name, exporter_code, exporter_kind, value_usd_thousand,
        download_date, source_file, source_row
    from itc

    union all

    select
        source, 'production', product_name, measure, measure_unit,
        'month', period_month, false,
        'Taiwan', 'TW', 'country', value_in_measure_unit,
        download_date, source_file, source_row
    from moea

)

-- partner_key: who the partner is across downloads: its code where a seed maps the name (so a
-- partner a later download spells anew, Chinese Taipei for Taipei, Chinese, is the same
-- partner), else the name itself.
select
    *,
    coalesce(partner_code, partner_name) as partner_key
from unioned
