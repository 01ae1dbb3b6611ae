-- What each value of the current vintages is checked against (the gates of int_checks__values):
-- one row per value, with its series (source, flow, product, measure, grain, partner) under one
-- key; the value of the period right before it and the ratio to it; the largest value of the
-- series in the previous 24 months (two years of an annual source); the largest ratio, and the
-- number of ratios, the series showed before; the largest total of its (source, flow, product,
-- measure) in the previous 24 months; and whether a download brought it in (a period no earlier
-- download covered, or a value the covering download changed or added: is_checked).
-- Incremental: a build computes again every period from the first one the changed downloads
-- cover, in each (source, flow, product, measure) they cover (every period of a source whose
-- download changed or went away), reading the 24 months before it, and the ratios of the periods
-- before that from the table itself.
-- depends_on: {{ ref('int_observations__downloads') }}
-- (union all by name: a partition's marker row holds its key columns only)
-- noqa: disable=AM07
{%- set group = coverage_key()[:-1] %}
{%- set history = var('plausibility_history_months') %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_partitions',
    unique_key=coverage_key(),
    on_schema_change='sync_all_columns',
    pre_hook="{{ incremental_downloads_table() }}",
    post_hook="{{ record_downloads() }}",
    meta={'partition_marker': 'series_key'},
) }}
with

changed as (

    {{ downloads_changed() }}

),

affected as (

    {{ affected_coverage_keys(ref('int_observations__coverage'), later_periods=true) }}

),

-- the first period computed again in each (source, flow, product, measure)
firsts as (

    select {{ group | join(', ') }}, min(period_start) as first_period_start
    from affected
    group by all

),

-- the values (in an incremental build, those the periods computed again and their history read)
current_values as (

    select current_values.*
    from {{ ref('int_observations__vintaged') }} as current_values
    {{ join_from_first_period('current_values', months_before=history) }}
    where current_values.edition = 'current'

),

-- What each download covers, up to the as_of_date var.
covered as (

    select covered.*
    from {{ ref('int_observations__coverage') }} as covered
    {{ join_from_first_period('covered', months_before=history) }}
    {% if var('as_of_date') %}
        where covered.download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

-- The downloads covering each (source, flow, product, measure, period), in order.
coverings as (

    select
        source, flow, product, measure, period_grain, period_start, download_date,
        lag(download_date) over (
            partition by source, flow, product, measure, period_grain, period_start
            order by download_date
        ) as previous_download_date
    from covered

),

-- Each period's total as the current vintages give it: the latest covering download's (its World
-- row where the source has one, else the sum over partners).
current_totals as (

    select
        source, flow, product, measure, period_grain, period_start,
        arg_max(total, download_date) as total
    from covered
    group by all

),

-- The largest total of the group over the previous 24 months: a value must be a material
-- share of it to be checked (small, noisy series are left alone).
group_history as (

    select
        *,
        max(total) over (
            partition by source, flow, product, measure, period_grain
            order by period_start
            range between interval ({{ history }}) month preceding
            and interval 1 day preceding
        ) as history_total
    from current_totals

),

revisions as (

    select * from {{ ref('int_observations__revisions') }}

),

-- Each series (source, flow, product, measure, grain, partner) under one key, for the windows.
keyed as (

    select
        source, flow, product, measure, period_grain, period_start, partner_name, partner_key, value,
        download_date, source_file, source_row,
        hash(source, flow, product, measure, period_grain, partner_key) as series_key,
        case
            when period_grain = 'year' then strftime(period_start, '%Y') else strftime(period_start, '%Y-%m')
        end as period,
        period_start - case when period_grain = 'year' then interval 1 year else interval 1 month end
            as period_before
    from current_values

),

-- The largest value of the series in the previous 24 months, and the value of the period before.
series as (

    select
        *,
        lag(value) over by_period as lag_value,
        lag(period_start) over by_period as lag_period_start,
        max(abs(value)) over (
            partition by series_key
            order by period_start
            range between interval ({{ history }}) month preceding
            and interval 1 day preceding
        ) as history_max
    from keyed
    window by_period as (partition by series_key order by period_start)

),

-- The ratio to the period before (only where the series had a value in the period right before).
ratios as (

    select
        * exclude (lag_value, lag_period_start, period_before),
        case when lag_period_start = period_before then lag_value end as previous_value,
        case when lag_period_start = period_before and lag_value > 0 then value / lag_value end as jump_ratio
    from series

),

-- The periods computed again (in an incremental build, from the first one in each group).
computed as (

    select ratios.*
    from ratios
    {{ join_from_first_period('ratios') }}

),

-- The largest ratio and the number of ratios of each series before the periods computed again, as
-- the table holds them (none in a full build).
ratios_before as (

    {% if is_incremental() %}
        select stored.series_key, max(stored.jump_ratio) as max_jump, count(stored.jump_ratio) as jumps
        from {{ this }} as stored
        inner join firsts
            on
                {{ same_key('firsts', 'stored', group) }}
                and stored.period_start < firsts.first_period_start
        -- the series computed again only
        where
            stored.jump_ratio is not null
            and stored.series_key in (select computed.series_key from computed)
        group by stored.series_key
    {% else %}
        select cast(null as ubigint) as series_key, cast(null as double) as max_jump, 0 as jumps
        from firsts
        where false
    {% endif %}

),

-- The largest ratio the series showed before, and how many ratios it had.
jump_history as (

    select
        computed.*,
        greatest(ratios_before.max_jump, max(computed.jump_ratio) over before_it) as history_max_jump,
        coalesce(ratios_before.jumps, 0) + count(computed.jump_ratio) over before_it as history_jumps
    from computed
    left join ratios_before on computed.series_key = ratios_before.series_key
    window before_it as (
        partition by computed.series_key
        order by computed.period_start
        rows between unbounded preceding and 1 preceding
    )

),

-- Only values a download brought in are checked: a period no earlier download covered, or a
-- value the covering download changed or added; history that passed stays passed.
checked as (

    select
        jump_history.*,
        group_history.history_total,
        (
            coverings.previous_download_date is null
            or exists (
                select 1 from revisions
                where
                    revisions.source = jump_history.source
                    and revisions.flow = jump_history.flow
                    and revisions.product = jump_history.product
                    and revisions.measure = jump_history.measure
                    and revisions.period_grain = jump_history.period_grain
                    and revisions.period_start = jump_history.period_start
                    and revisions.partner_key = jump_history.partner_key
                    and revisions.new_download_date = jump_history.download_date
            )
        ) as is_checked
    from jump_history
    inner join coverings
        on
            jump_history.source = coverings.source
            and jump_history.flow = coverings.flow
            and jump_history.product = coverings.product
            and jump_history.measure = coverings.measure
            and jump_history.period_grain = coverings.period_grain
            and jump_history.period_start = coverings.period_start
            and jump_history.download_date = coverings.download_date
    left join group_history
        on
            jump_history.source = group_history.source
            and jump_history.flow = group_history.flow
            and jump_history.product = group_history.product
            and jump_history.measure = group_history.measure
            and jump_history.period_grain = group_history.period_grain
            and jump_history.period_start = group_history.period_start

)

-- every period computed again (in an incremental build): its values, and a row of its key alone, so
-- that one left without any is left with none
select * from checked
union all by name
select * from affected
