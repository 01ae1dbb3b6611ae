-- Complete downloads, judged from their content (never from file times): one row per flag.
-- - lost partners: a later download of a (source, flow, product, measure, period) lacks
--   partners the earlier download covering it had, holding more than a set share of its total,
--   or lists less than half its partners (a query filtered to one country);
-- - a gap: a month missing in the middle of what a download covers for a flow and product;
-- - a cut: the last month of a download holds far fewer partners than the months before it
--   (a file copied while still being written, cut at a line end).
-- The vintage rule (a partner a later download leaves out is revised to zero) is only sound for
-- downloads that pass: the assert_download_* tests stop the run before anything is published.
-- Partners are counted without the total row (WORLD: GTA's, ITC's) and groupings (partner_kind
-- aggregate: the European Union, regions). Thresholds: dbt_project.yml.
with

observations as (

    select
        *,
        (
            coalesce(partner_kind, 'country') not in ('total', 'aggregate')
            and partner_code is distinct from 'WORLD'
        ) as is_partner
    from {{ ref('int_observations__unioned') }}
    {% if var('as_of_date') %}
    where download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

),

current_values as (

    select
        *,
        (
            coalesce(partner_kind, 'country') not in ('total', 'aggregate')
            and partner_code is distinct from 'WORLD'
        ) as is_partner
    from {{ ref('int_observations__vintaged') }}
    where edition = 'current'

),

-- What each download holds for a (source, flow, product, measure, period): its partners and total.
held as (

    select
        source, flow, product, measure, period_grain, period_start, download_date,
        min(source_file) as source_file,
        count(distinct partner_key) filter (where is_partner) as partners,
        coalesce(sum(abs(value)) filter (where is_partner), 0) as total
    from observations
    group by all

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
        sum(abs(gone.value)) as lost_value,
        string_agg(gone.partner_name, '、' order by gone.value desc) as lost_names
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

),

-- Each download's months for a (source, flow, product, measure): a month missing between its
-- first and last is a gap.
spans as (

    select
        source, flow, product, measure, period_grain, download_date,
        min(source_file) as source_file,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start,
        list(distinct period_start) as periods
    from held
    where period_grain = 'month'
    group by all

),

gaps as (

    select
        'download has a gap' as check_name,
        spans.source, spans.flow, spans.product, spans.measure, spans.period_grain,
        cast(missing.period_start as date) as period_start,
        spans.download_date, spans.source_file,
        cast(null as date) as compared_download_date, cast(null as varchar) as compared_file,
        0 as partners, cast(null as bigint) as compared_partners, cast(null as double) as share,
        format(
            'has no row for {} in the middle of the months it covers ({} to {})',
            strftime(missing.period_start, '%Y-%m'),
            strftime(spans.first_period_start, '%Y-%m'), strftime(spans.last_period_start, '%Y-%m')
        ) as finding
    from spans,
        unnest(generate_series(spans.first_period_start, spans.last_period_start, interval 1 month))
            as missing (period_start)
    where not list_contains(spans.periods, cast(missing.period_start as date))

),

-- The partners each month of the current vintages holds (the history a last month is read against).
current_partners as (

    select
        source, flow, product, measure, period_grain, period_start,
        count(distinct partner_key) filter (where is_partner) as partners
    from current_values
    group by all

),

last_months as (

    select
        spans.source, spans.flow, spans.product, spans.measure, spans.period_grain,
        spans.last_period_start as period_start, spans.download_date, spans.source_file,
        held.partners,
        (
            select median(c.partners) from current_partners as c
            where
                c.source = spans.source and c.flow = spans.flow and c.product = spans.product
                and c.measure = spans.measure and c.period_grain = spans.period_grain
                and c.period_start < spans.last_period_start
                and c.period_start
                >= spans.last_period_start - interval ({{ var('completeness_cut_window_months') }}) month
        ) as usual_partners,
        (
            select count(*) from current_partners as c
            where
                c.source = spans.source and c.flow = spans.flow and c.product = spans.product
                and c.measure = spans.measure and c.period_grain = spans.period_grain
                and c.period_start < spans.last_period_start
                and c.period_start
                >= spans.last_period_start - interval ({{ var('completeness_cut_window_months') }}) month
        ) as months_before
    from spans
    inner join held
        on
            spans.source = held.source
            and spans.flow = held.flow
            and spans.product = held.product
            and spans.measure = held.measure
            and spans.period_grain = held.period_grain
            and spans.last_period_start = held.period_start
            and spans.download_date = held.download_date

),

cuts as (

    select
        'download cut short' as check_name,
        source, flow, product, measure, period_grain, period_start, download_date, source_file,
        cast(null as date) as compared_download_date, cast(null as varchar) as compared_file,
        partners, cast(usual_partners as bigint) as compared_partners,
        partners / usual_partners as share,
        format(
            'its last month {} lists {} partner(s), the {} months before it {:g} (their median): a file cut short?',
            strftime(period_start, '%Y-%m'), partners, months_before, usual_partners
        ) as finding
    from last_months
    where
        months_before >= 3
        and partners < {{ var('completeness_cut_min_ratio') }} * usual_partners

)

select * from lost_partners
union all
select * from gaps
union all
select * from cuts
