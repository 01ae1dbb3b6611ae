-- What each download covers: one row per (source, flow, product, measure, period) and download,
-- with what it holds there, for the checks and the vintage choice to read without the rows:
-- its partners (the total row, WORLD, and groupings, partner_kind total or aggregate, aside), the
-- sum of their absolute values, and its total: the total row where the source has one (ITC's is
-- not the sum of its rows), else that sum.
-- Incremental by download, as int_observations__unioned.
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

observations as (

    select
        *,
        (
            coalesce(partner_kind, 'country') not in ('total', 'aggregate')
            and partner_code is distinct from 'WORLD'
        ) as is_partner
    from {{ ref('int_observations__unioned') }}
    where {{ is_changed_download('source') }}

),

held as (

    select
        source, flow, product, measure, period_grain, period_start, download_date,
        min(source_file) as source_file,
        count(*) as observations,
        count(distinct partner_key) filter (where is_partner) as partners,
        coalesce(sum(abs(value) order by abs(value)) filter (where is_partner), 0) as partner_total,
        greatest(
            coalesce(max(value) filter (where partner_kind = 'total' or partner_code = 'WORLD'), 0),
            coalesce(sum(abs(value) order by abs(value)) filter (where is_partner), 0)
        ) as total
    from observations
    group by source, flow, product, measure, period_grain, period_start, download_date

)

-- each download replaced (in an incremental build), as in int_observations__unioned
select * from held
union all by name
select source, download_date from changed
