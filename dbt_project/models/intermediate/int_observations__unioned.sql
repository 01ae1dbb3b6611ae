-- Every observation of the sources in one long form, every download kept (the four downloads,
-- and the API sources the fetch job writes: census, comtrade).
-- The vintage key is (source, flow, product, measure, period, partner_name); the
-- coverage key, what one download covers, is the same without the partner.
-- Incremental by download: a build reads only the downloads added or changed since the last one
-- (their rows replace the download's), and drops those removed (macros/incremental_downloads.sql).
-- depends_on: {{ ref('int_observations__downloads') }}
-- (union all by name: a partition's marker row holds its key columns only)
-- noqa: disable=AM07
{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    unique_key=['source', 'download_date'],
    on_schema_change='sync_all_columns',
    pre_hook="{{ incremental_downloads_table() }}",
    post_hook="{{ record_downloads() }}",
    meta={'partition_marker': 'source_file'},
) }}
with

changed as (

    {{ downloads_changed() }}

),

customs as (

    select * from {{ ref('stg_customs__trade') }}
    where {{ is_changed_download("'customs'") }}

),

gta as (

    select * from {{ ref('stg_gta__us_imports') }}
    where {{ is_changed_download("'gta'") }}

),

itc as (

    select * from {{ ref('stg_itc__exporters') }}
    where {{ is_changed_download("'itc'") }}

),

moea as (

    select * from {{ ref('stg_moea__production') }}
    where {{ is_changed_download("'moea'") }}

),

census as (

    select * from {{ ref('stg_census__us_imports') }}
    where {{ is_changed_download("'census'") }}

),

comtrade as (

    select * from {{ ref('stg_comtrade__exporters') }}
    where {{ is_changed_download("'comtrade'") }}

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

    union all

    select
        source, flow, hs_code, 'value', unit,
        'month', period_month, false,
        partner_name, partner_code, partner_kind, value_usd,
        download_date, source_file, source_row
    from census

    union all

    -- US$ thousand, as ITC's
    select
        source, flow, hs_code, 'value', 'USD thousand',
        'year', make_date(period_year, 1, 1), false,
        exporter_name, exporter_code, exporter_kind, value_usd_thousand,
        download_date, source_file, source_row
    from comtrade

),

-- partner_key: who the partner is across downloads: its code where a seed maps the name (so a
-- partner a later download spells anew, Chinese Taipei for Taipei, Chinese, is the same
-- partner), else the name itself.
keyed as (

    select
        *,
        coalesce(partner_code, partner_name) as partner_key
    from unioned

)

-- each download replaced (in an incremental build): its rows, and a row of its key alone, so that one
-- removed is replaced by nothing
select * from keyed
union all by name
select source, download_date from changed
