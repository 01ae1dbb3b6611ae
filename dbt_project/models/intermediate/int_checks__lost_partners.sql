-- The download check on lost partners, one row per flag: a later download of a (source, flow,
-- product, measure, period) lacks partners the earlier download covering it had, holding more
-- than a set share of its total, or lists less than half its partners (a query filtered to one
-- country). int_checks__downloads adds the other download checks; thresholds: dbt_project.yml.
-- Partners are counted without the total row (WORLD: GTA's, ITC's) and groupings (partner_kind
-- aggregate: the European Union, regions).
-- Incremental by coverage key: a build compares again only the keys the changed downloads cover
-- (every key of a source whose download changed or went away).
-- depends_on: {{ ref('int_observations__downloads') }}
-- (union all by name: a partition's marker row holds its key columns only)
-- noqa: disable=AM07
{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    unique_key=coverage_key(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ incremental_downloads_table() }}",
    post_hook="{{ record_downloads() }}",
    meta={'partition_marker': 'check_name'},
) }}
with

changed as (

    {{ downloads_changed() }}

),

affected as (

    {{ affected_coverage_keys(ref('int_observations__coverage')) }}

),

observations as (

    select
        observations.*,
        (
            coalesce(observations.partner_kind, 'country') not in ('total', 'aggregate')
            and observations.partner_code is distinct from 'WORLD'
        ) as is_partner
    from {{ ref('int_observations__unioned') }} as observations
    {{ join_affected('observations') }}
    {% if var('as_of_date') %}
        where observations.download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

-- What each download holds for a (source, flow, product, measure, period): its partners and total.
held as (

    select
        held.source, held.flow, held.product, held.measure, held.period_grain, held.period_start,
        held.download_date, held.source_file, held.partners, held.partner_total as total
    from {{ ref('int_observations__coverage') }} as held
    {{ join_affected('held') }}
    {% if var('as_of_date') %}
        where held.download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

successive as (

    select
        *,
        lead(download_date) over (
            partition by source, flow, product, measure, period_grain, period_start
            order by download_date
        ) as next_download_date
    from held

),

pairs as (

    select
        earlier.source, earlier.flow, earlier.product, earlier.measure, earlier.period_grain,
        earlier.period_start,
        earlier.download_date as earlier_download_date, earlier.source_file as earlier_file,
        earlier.partners as earlier_partners, earlier.total as earlier_total,
        later.download_date as later_download_date, later.source_file as later_file,
        later.partners as later_partners
    from successive as earlier
    inner join held as later
        on
            earlier.source = later.source
            and earlier.flow = later.flow
            and earlier.product = later.product
            and earlier.measure = later.measure
            and earlier.period_grain = later.period_grain
            and earlier.period_start = later.period_start
            and earlier.next_download_date = later.download_date

),

-- The partners of the earlier download that the later one does not list, and their values.
lost as (

    select
        pairs.source, pairs.flow, pairs.product, pairs.measure, pairs.period_grain, pairs.period_start,
        pairs.earlier_download_date,
        count(*) as lost_partners,
        sum(abs(gone.value) order by abs(gone.value)) as lost_value,
        string_agg(gone.partner_name, '、' order by gone.value desc, gone.partner_name asc) as lost_names
    from pairs
    inner join observations as gone
        on
            pairs.source = gone.source
            and pairs.flow = gone.flow
            and pairs.product = gone.product
            and pairs.measure = gone.measure
            and pairs.period_grain = gone.period_grain
            and pairs.period_start = gone.period_start
            and pairs.earlier_download_date = gone.download_date
            and gone.is_partner
    where
        not exists (
            select 1 from observations as kept
            where
                kept.source = pairs.source
                and kept.flow = pairs.flow
                and kept.product = pairs.product
                and kept.measure = pairs.measure
                and kept.period_grain = pairs.period_grain
                and kept.period_start = pairs.period_start
                and kept.download_date = pairs.later_download_date
                and kept.partner_key = gone.partner_key
        )
    group by all

),

lost_partners as (

    select
        'download lacks partners' as check_name,
        pairs.source, pairs.flow, pairs.product, pairs.measure, pairs.period_grain, pairs.period_start,
        pairs.later_download_date as download_date, pairs.later_file as source_file,
        pairs.earlier_download_date as compared_download_date, pairs.earlier_file as compared_file,
        pairs.later_partners as partners, pairs.earlier_partners as compared_partners,
        lost.lost_value / nullif(pairs.earlier_total, 0) as share,
        format(
            'lists {} partner(s), the earlier download {} ({}) listed {}: the {} it lacks ({}) held {:,.1f}% of '
            || 'the earlier total (a query filtered by country, or a file cut short?)',
            pairs.later_partners, pairs.earlier_download_date, pairs.earlier_file, pairs.earlier_partners,
            lost.lost_partners,
            case
                when lost.lost_partners > 5
                    then array_to_string(list_slice(string_split(lost.lost_names, '、'), 1, 5), '、') || '…'
                else lost.lost_names
            end,
            100 * lost.lost_value / nullif(pairs.earlier_total, 0)
        ) as finding
    from pairs
    inner join lost
        on
            pairs.source = lost.source
            and pairs.flow = lost.flow
            and pairs.product = lost.product
            and pairs.measure = lost.measure
            and pairs.period_grain = lost.period_grain
            and pairs.period_start = lost.period_start
            and pairs.earlier_download_date = lost.earlier_download_date
    where
        lost.lost_value > {{ var('completeness_max_lost_share') }} * pairs.earlier_total
        or (
            pairs.later_partners < {{ var('completeness_min_partner_ratio') }} * pairs.earlier_partners
            and lost.lost_value > {{ var('plausibility_material_share') }} * pairs.earlier_total
        )

)

-- every key compared again (in an incremental build): its flags, and a row of the key alone, so that
-- one with none any more is left with none
select * from lost_partners
union all by name
select * from affected
