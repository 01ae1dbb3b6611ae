-- Complete downloads, judged from their content (never from file times): one row per flag.
-- - lost partners: a later download of a (source, flow, product, measure, period) lacks
--   partners the earlier download covering it had, holding more than a set share of its total,
--   or lists less than half its partners (a query filtered to one country): int_checks__lost_partners;
-- - a gap: a month missing in the middle of what a download covers for a flow and product;
-- - a cut: the last month of a download holds far fewer partners than the months before it
--   (a file copied while still being written, cut at a line end).
-- The vintage rule (a partner a later download leaves out is revised to zero) is only sound for
-- downloads that pass: the assert_download_* tests stop the run before anything is published.
-- Partners are counted without the total row (WORLD: GTA's, ITC's) and groupings (partner_kind
-- aggregate: the European Union, regions). Thresholds: dbt_project.yml.
-- Gaps and cuts are read from what each download covers (int_observations__coverage), not its rows.
with

lost_partners as (

    select
        check_name, source, flow, product, measure, period_grain, period_start, download_date, source_file,
        compared_download_date, compared_file, partners, compared_partners, share, finding
    from {{ ref('int_checks__lost_partners') }}

),

-- What each download holds for a (source, flow, product, measure, period): its partners and total.
-- (Read where used, not materialized: each reads a few columns of int_observations__coverage.)
held as not materialized (

    select
        source, flow, product, measure, period_grain, period_start, download_date,
        source_file, partners, partner_total as total
    from {{ ref('int_observations__coverage') }}
    {% if var('as_of_date') %}
    where download_date <= cast('{{ var("as_of_date") }}' as date)
    {% endif %}

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

-- The partners each month of the current vintages holds (the history a last month is read against):
-- those of the latest download covering it (int_observations__vintaged's choice for 'current').
current_partners as (

    select
        source, flow, product, measure, period_grain, period_start,
        arg_max(partners, download_date) as partners
    from held
    group by all

),

-- For each download's last month of a (source, flow, product, measure): the partners the current
-- vintages hold in the months before it (their median and how many months).
usual as (

    select
        spans.source, spans.flow, spans.product, spans.measure, spans.period_grain, spans.download_date,
        median(c.partners) as usual_partners,
        count(*) as months_before
    from spans
    inner join current_partners as c
        on
            spans.source = c.source and spans.flow = c.flow and spans.product = c.product
            and spans.measure = c.measure and spans.period_grain = c.period_grain
            and spans.last_period_start > c.period_start
            and spans.last_period_start - interval ({{ var('completeness_cut_window_months') }}) month
            <= c.period_start
    group by all

),

last_months as (

    select
        spans.source, spans.flow, spans.product, spans.measure, spans.period_grain,
        spans.last_period_start as period_start, spans.download_date, spans.source_file,
        held.partners,
        usual.usual_partners,
        coalesce(usual.months_before, 0) as months_before
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
    left join usual
        on
            spans.source = usual.source
            and spans.flow = usual.flow
            and spans.product = usual.product
            and spans.measure = usual.measure
            and spans.period_grain = usual.period_grain
            and spans.download_date = usual.download_date

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
