-- Every download loaded, with a fingerprint that changes whenever it does: one row per source and
-- download date (files, rows and fingerprint). The fingerprint is made of its files as the loader
-- read them (path, BLAKE3 hash, rows and the version of the ingestion code: its record
-- raw._ingested_files, written in the same transaction as the raw table). A warehouse whose raw
-- tables were loaded otherwise (no record) gets a fingerprint from the rows of each raw table
-- (every source in the raw schema) instead. The incremental models record the fingerprints they
-- were built from and process the downloads whose fingerprint is new, changed or gone
-- (macros/incremental_downloads.sql).
-- depends_on: {{ source('customs', 'customs_trade') }} {{ source('gta', 'gta_us_imports') }}
-- depends_on: {{ source('itc', 'itc_exporters') }} {{ source('moea', 'moea_production') }}
-- depends_on: {{ source('census', 'census_us_imports') }} {{ source('comtrade', 'comtrade_exporters') }}
with

files as (

    {{ loaded_downloads() }}

)

select * from files
