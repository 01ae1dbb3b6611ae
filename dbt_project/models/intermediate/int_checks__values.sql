-- The plausibility gates on values, as statistical offices run them: every value a download
-- brought in (a period no earlier download covered, or a value it changed) that is far outside
-- its own history, or that jumps from the month before as its series never did; and every
-- material revision that multiplies or divides a value by more than revision_max_ratio. One row
-- per flag, with the file, line, series, period, value and the history it was compared with. The thresholds are vars
-- (dbt_project.yml, with their reasons); int_checks__flags adds the acceptances and the
-- assert_value_* / assert_revision_* tests fail on the flags nobody accepted.
-- A series is (source, flow, product, measure, partner), read from the current vintages; what each
-- value is compared with (its history, whether a download brought it in) is int_checks__series'.
with

-- (read where used: each reads a few of its columns, or the few rows of one series)
series as not materialized (

    select * from {{ ref('int_checks__series') }}

),

revisions as (

    select * from {{ ref('int_observations__revisions') }}

),

download_flags as (

    select * from {{ ref('int_checks__downloads') }}
    where check_name in ('download lacks partners', 'download cut short')

),

-- What each download covers, and its total of a (source, flow, product, measure, period): the total
-- row (WORLD) where a source has one (ITC's is not the sum of its rows), else the sum over partners
-- (groupings such as the European Union, partner_kind aggregate, left out: they count twice).
download_totals as (

    select * from {{ ref('int_observations__coverage') }}
    {% if var('as_of_date') %}
    where download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

-- Small, noisy values are left alone: a value must be a material share of its group's history.
-- Only values a download brought in are checked (history that passed stays passed).
material as materialized (

    select
        source, flow, product, measure, period_grain, period_start, period, partner_name, value,
        download_date, source_file, source_row, series_key, history_max, previous_value, jump_ratio,
        history_max_jump, history_jumps
    from series
    where is_checked and abs(value) >= {{ var('plausibility_material_share') }} * history_total

),

far_outside_found as (

    select * from material
    where history_max > 0 and abs(value) > {{ var('plausibility_max_ratio_to_history') }} * history_max

),

jumps_found as (

    select * from material
    where
        history_jumps >= {{ var('plausibility_jump_min_history') }}
        and jump_ratio > {{ var('plausibility_jump_min_ratio') }}
        and jump_ratio > {{ var('plausibility_jump_factor') }} * history_max_jump

),

-- For the message (the few values flagged only): when the history's largest value was, how many
-- values the history holds and where it starts.
far_outside_history as (

    select
        found.series_key, found.period_start,
        arg_max(history.period, abs(history.value)) as history_max_period,
        count(history.value) as history_periods,
        min(history.period) as history_first_period
    from far_outside_found as found
    inner join series as history
        on
            found.series_key = history.series_key
            and found.period_start > history.period_start
            and found.period_start - interval ({{ var('plausibility_history_months') }}) month
            <= history.period_start
    group by found.series_key, found.period_start

),

far_outside as (

    select
        'value far above its history' as check_name,
        found.source, found.flow, found.product, found.measure, found.period_grain, found.period_start,
        found.period, found.partner_name, found.value, found.download_date, found.source_file, found.source_row,
        found.history_max as compared_value,
        abs(found.value) / found.history_max as ratio,
        cast({{ var('plausibility_max_ratio_to_history') }} as double) as threshold,
        format(
            '{:,.0f} is {:,.1f} times the largest of its previous {} ({:,.0f} in {}; {} values from {}), '
            || 'more than {} times is implausible',
            found.value, abs(found.value) / found.history_max,
            case
                when found.period_grain = 'year'
                    then '{{ var("plausibility_history_months") // 12 }} years'
                else '{{ var("plausibility_history_months") }} months'
            end,
            found.history_max, history.history_max_period, history.history_periods, history.history_first_period,
            {{ var('plausibility_max_ratio_to_history') }}
        ) as finding
    from far_outside_found as found
    inner join far_outside_history as history
        on found.series_key = history.series_key and found.period_start = history.period_start

),

jumps_history as (

    select
        found.series_key, found.period_start,
        arg_max(history.period, history.jump_ratio) as history_max_jump_period,
        min(
            case
                when history.period_grain = 'year'
                    then strftime(history.period_start - interval 1 year, '%Y')
                else strftime(history.period_start - interval 1 month, '%Y-%m')
            end
        ) as history_first_period
    from jumps_found as found
    inner join series as history
        on
            found.series_key = history.series_key
            and found.period_start > history.period_start
            and history.jump_ratio is not null
    group by found.series_key, found.period_start

),

jumps as (

    select
        'jump the series never showed' as check_name,
        found.source, found.flow, found.product, found.measure, found.period_grain, found.period_start,
        found.period, found.partner_name, found.value, found.download_date, found.source_file, found.source_row,
        found.previous_value as compared_value,
        found.jump_ratio as ratio,
        greatest(
            {{ var('plausibility_jump_factor') }} * found.history_max_jump, {{ var('plausibility_jump_min_ratio') }}
        ) as threshold,
        format(
            '{:,.0f} is {:,.1f} times the period before ({:,.0f}); the largest such ratio of the series '
            || 'before was {:,.2f} (in {}, over {} ratios from {}), and more than {} times it is implausible',
            found.value, found.jump_ratio, found.previous_value, found.history_max_jump,
            history.history_max_jump_period, found.history_jumps, history.history_first_period,
            {{ var('plausibility_jump_factor') }}
        ) as finding
    from jumps_found as found
    inner join jumps_history as history
        on found.series_key = history.series_key and found.period_start = history.period_start

),

-- Revisions: old and new value of a key in two successive downloads covering it.
revised as (

    select
        revisions.*,
        case
            when revisions.period_grain = 'year'
                then strftime(revisions.period_start, '%Y')
            else strftime(revisions.period_start, '%Y-%m')
        end as period,
        abs(coalesce(revisions.new_value, 0) - coalesce(revisions.old_value, 0)) as moved,
        case
            when coalesce(revisions.old_value, 0) = 0 or coalesce(revisions.new_value, 0) = 0 then 'infinity'::double
            else
                greatest(abs(revisions.old_value), abs(revisions.new_value))
                / least(abs(revisions.old_value), abs(revisions.new_value))
        end as ratio,
        old_totals.total as old_total
    from revisions
    left join download_totals as old_totals
        on
            revisions.source = old_totals.source
            and revisions.flow = old_totals.flow
            and revisions.product = old_totals.product
            and revisions.measure = old_totals.measure
            and revisions.period_grain = old_totals.period_grain
            and revisions.period_start = old_totals.period_start
            and revisions.old_download_date = old_totals.download_date

),

-- The line of the new value; for a value revised to zero, the new download's file covering it.
revised_lines as (

    select
        revised.*,
        coalesce(new_rows.source_file, new_download.source_file) as source_file,
        new_rows.source_row
    from revised
    left join download_totals as new_download
        on
            revised.source = new_download.source
            and revised.flow = new_download.flow
            and revised.product = new_download.product
            and revised.measure = new_download.measure
            and revised.period_grain = new_download.period_grain
            and revised.period_start = new_download.period_start
            and revised.new_download_date = new_download.download_date
    left join {{ ref('int_observations__unioned') }} as new_rows
        on
            revised.source = new_rows.source
            and revised.flow = new_rows.flow
            and revised.product = new_rows.product
            and revised.measure = new_rows.measure
            and revised.period_grain = new_rows.period_grain
            and revised.period_start = new_rows.period_start
            and revised.partner_key = new_rows.partner_key
            and revised.new_download_date = new_rows.download_date
    where
        revised.ratio > {{ var('revision_max_ratio') }}
        and revised.moved >= {{ var('revision_material_share') }} * coalesce(revised.old_total, 0)
        -- partners a download lacks because it is incomplete are that check's finding, not revisions
        and not (
            revised.revision_kind = 'revised to zero'
            and exists (
                select 1 from download_flags
                where
                    download_flags.source = revised.source
                    and download_flags.flow = revised.flow
                    and download_flags.product = revised.product
                    and download_flags.measure = revised.measure
                    and download_flags.period_grain = revised.period_grain
                    and download_flags.period_start = revised.period_start
                    and download_flags.download_date = revised.new_download_date
            )
        )

),

large_revisions as (

    select
        'revision beyond its bounds' as check_name,
        source, flow, product, measure, period_grain, period_start, period, partner_name,
        coalesce(new_value, 0) as value, new_download_date as download_date, source_file, source_row,
        coalesce(old_value, 0) as compared_value,
        ratio,
        cast({{ var('revision_max_ratio') }} as double) as threshold,
        format(
            '{} from {:,.0f} (download {}) to {:,.0f} (download {}): moves {:,.1f}% of the period''s total '
            || '({:,.0f}), and a material value more than {} times or less than 1/{} of the earlier is implausible',
            revision_kind, coalesce(old_value, 0), old_download_date, coalesce(new_value, 0), new_download_date,
            100 * moved / nullif(old_total, 0), old_total,
            {{ var('revision_max_ratio') }}, {{ var('revision_max_ratio') }}
        ) as finding
    from revised_lines

)

select * from far_outside
union all
select * from jumps
union all
select * from large_revisions
