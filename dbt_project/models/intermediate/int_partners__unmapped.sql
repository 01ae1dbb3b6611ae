-- Every partner name of a download that no partner-name seed maps, one row per source and
-- name, with what it does to the bulletin. Its value is not lost: it stays a series of its
-- own (the name itself), so the source's total keeps it. It could change a printed cell when
-- (in any edition) its value in the exhibit's latest column would rank it among the partners
-- the exhibit shows (against the partners the seeds map), or when the exhibit's total is the
-- sum of its partners (customs' Table 1, comtrade's Table 3: an unknown name might be an
-- aggregate, counted twice). The exhibit a source feeds is the edition's
-- (int_bulletin__exhibit_sources): an API source feeds one only where its source var chooses it.
-- A proposed code comes from a name of another seed, or an English name of the partners seed,
-- spelled the same but for case, accents, spaces and punctuation.
with

customs as (

    select
        source, partner_name, 'USD thousand' as unit,
        download_date, source_file
    from {{ ref('stg_customs__trade') }}
    where partner_code is null

),

gta as (

    select
        source, partner_name, 'USD' as unit,
        download_date, source_file
    from {{ ref('stg_gta__us_imports') }}
    where partner_code is null

),

itc as (

    select
        source, exporter_name as partner_name, 'USD thousand' as unit,
        download_date, source_file
    from {{ ref('stg_itc__exporters') }}
    where exporter_code is null

),

census as (

    select
        source, partner_name, 'USD' as unit,
        download_date, source_file
    from {{ ref('stg_census__us_imports') }}
    where partner_code is null

),

comtrade as (

    select
        source, exporter_name as partner_name, 'USD thousand' as unit,
        download_date, source_file
    from {{ ref('stg_comtrade__exporters') }}
    where exporter_code is null

),

unmapped_rows as (

    select * from customs
    union all
    select * from gta
    union all
    select * from itc
    union all
    select * from census
    union all
    select * from comtrade

),

names as (

    select
        source,
        partner_name,
        any_value(unit) as unit,
        min(download_date) as first_download_date,
        max(download_date) as last_download_date,
        list(source_file order by download_date, source_file)[1] as first_source_file,
        count(*) as source_rows
    from unmapped_rows
    group by source, partner_name

),

exhibits as (

    select * from {{ ref('bulletin_exhibits') }}

),

exhibit_sources as (

    select * from {{ ref('int_bulletin__exhibit_sources') }}

),

periods as (

    select * from {{ ref('int_bulletin__periods') }}

),

-- Each exhibit's latest column, where the partners shown are chosen (as int_bulletin__cells
-- chooses them): the year-to-date span where there is one, else the last full year.
latest_column as (

    select periods.edition, periods.exhibit, periods.series, periods.period, periods.value
    from periods
    where
        not periods.is_total and periods.is_ranking_column

),

-- The names as the series of the exhibit their source feeds in an edition (a name no exhibit
-- reads has none).
name_series as (

    select distinct
        names.source,
        names.partner_name,
        exhibits.exhibit,
        exhibits.top_n,
        exhibits.value_divisor,
        exhibit_sources.total_from
    from names
    inner join exhibit_sources on names.source = exhibit_sources.source
    inner join exhibits on exhibit_sources.exhibit = exhibits.exhibit

),

-- The partners the seeds map, in each edition's latest column, by size.
mapped_partners as (

    select
        latest_column.edition,
        latest_column.exhibit,
        latest_column.value,
        row_number() over (
            partition by latest_column.edition, latest_column.exhibit
            order by latest_column.value desc, latest_column.series asc
        ) as partner_rank
    from latest_column
    inner join exhibit_sources
        on latest_column.edition = exhibit_sources.edition and latest_column.exhibit = exhibit_sources.exhibit
    left join names
        on exhibit_sources.source = names.source and latest_column.series = names.partner_name
    where names.partner_name is null

),

smallest_shown as (

    select mapped_partners.edition, mapped_partners.exhibit, min(mapped_partners.value) as value
    from mapped_partners
    inner join exhibits on mapped_partners.exhibit = exhibits.exhibit
    where mapped_partners.partner_rank <= exhibits.top_n
    group by mapped_partners.edition, mapped_partners.exhibit

),

-- any value in any column of the exhibit (the year before the first is read for growth)
with_values as (

    select edition, exhibit, series
    from periods
    where value <> 0 or coalesce(prior_value, 0) <> 0
    group by edition, exhibit, series

),

name_columns as (

    select
        latest_column.edition,
        name_series.source,
        name_series.partner_name,
        name_series.exhibit,
        name_series.top_n,
        name_series.value_divisor,
        name_series.total_from,
        latest_column.period,
        latest_column.value
    from name_series
    inner join latest_column
        on name_series.exhibit = latest_column.exhibit and name_series.partner_name = latest_column.series

),

-- its place among the mapped partners were it one (a tie counts in its favour: it could be shown)
ahead as (

    select
        name_columns.edition,
        name_columns.source,
        name_columns.partner_name,
        count(mapped_partners.value) as partners_ahead
    from name_columns
    left join mapped_partners
        on
            name_columns.edition = mapped_partners.edition
            and name_columns.exhibit = mapped_partners.exhibit
            and name_columns.value < mapped_partners.value
    group by name_columns.edition, name_columns.source, name_columns.partner_name

),

per_edition as (

    select
        name_columns.edition,
        name_columns.source,
        name_columns.partner_name,
        name_columns.exhibit,
        name_columns.top_n,
        name_columns.period,
        -- back in the source's unit (the periods are in the exhibit's)
        round(name_columns.value * name_columns.value_divisor, 6) as value,
        1 + ahead.partners_ahead as rank_would_have,
        round(smallest_shown.value * name_columns.value_divisor, 6) as smallest_shown_value,
        -- customs' Table 1, comtrade's Table 3: the total is the sum of every partner, this name included
        name_columns.total_from = 'sum_of_partners' as total_is_sum,
        with_values.series is not null as has_value_in_a_column
    from name_columns
    inner join ahead
        on
            name_columns.edition = ahead.edition
            and name_columns.source = ahead.source
            and name_columns.partner_name = ahead.partner_name
    left join smallest_shown
        on name_columns.edition = smallest_shown.edition and name_columns.exhibit = smallest_shown.exhibit
    left join with_values
        on
            name_columns.edition = with_values.edition
            and name_columns.exhibit = with_values.exhibit
            and name_columns.partner_name = with_values.series

),

judged as (

    select
        per_edition.*,
        (per_edition.value > 0 and per_edition.rank_would_have <= per_edition.top_n)
        or (per_edition.total_is_sum and per_edition.has_value_in_a_column) as could_change_printed_cell
    from per_edition

),

per_name as (

    select
        source,
        partner_name,
        bool_or(could_change_printed_cell) as could_change_printed_cell,
        list(distinct edition order by edition) filter (where could_change_printed_cell) as editions_changed
    from judged
    group by source, partner_name

),

current_edition as (

    select * from judged
    where edition = 'current'

),

-- Names spelled alike: lower case, no accents, no spaces or punctuation.
known_names as (

    select 'partner_names_customs' as known_in, partner_name as known_name, partner_code
    from {{ ref('partner_names_customs') }}
    union all
    select 'partner_names_gta', partner_name, partner_code from {{ ref('partner_names_gta') }}
    union all
    select 'partner_names_itc', partner_name, partner_code from {{ ref('partner_names_itc') }}
    union all
    select 'partner_names_census', partner_name, partner_code from {{ ref('partner_names_census') }}
    union all
    select 'partner_names_comtrade', partner_name, partner_code from {{ ref('partner_names_comtrade') }}
    union all
    select 'partners', name_en, partner_code from {{ ref('partners') }}
    union all
    select 'partners', label_zh, partner_code from {{ ref('partners') }}

),

known_keys as (

    select
        regexp_replace(lower(strip_accents(known_name)), '[\s\p{P}\p{S}]+', '', 'g') as name_key,
        partner_code,
        known_in,
        known_name
    from known_names

),

name_keys as (

    select
        source,
        partner_name,
        regexp_replace(lower(strip_accents(partner_name)), '[\s\p{P}\p{S}]+', '', 'g') as name_key
    from names

),

proposals as (

    select
        name_keys.source,
        name_keys.partner_name,
        min(known_keys.partner_code) as proposed_code,
        min(known_keys.known_in || ': ' || known_keys.known_name) as proposed_from
    from name_keys
    inner join known_keys on name_keys.name_key = known_keys.name_key
    group by name_keys.source, name_keys.partner_name
    -- only a match that names one code
    having count(distinct known_keys.partner_code) = 1

),

final as (

    select
        names.source,
        names.partner_name,
        'partner_names_' || names.source as seed,
        'dbt_project/seeds/partner_names_' || names.source || '.csv' as seed_file,
        -- the exhibit, where the name has a value it reads (in any edition)
        case when per_name.source is not null then name_series.exhibit end as exhibit,
        current_edition.period as latest_period,
        current_edition.value as value_in_latest_period,
        names.unit,
        current_edition.rank_would_have,
        case when per_name.source is not null then name_series.top_n end as top_n,
        current_edition.smallest_shown_value,
        coalesce(name_series.total_from = 'sum_of_partners', false) as total_is_sum,
        coalesce(per_name.could_change_printed_cell, false) as could_change_printed_cell,
        per_name.editions_changed,
        proposals.proposed_code,
        proposals.proposed_from,
        names.first_source_file,
        names.first_download_date,
        names.last_download_date,
        names.source_rows
    from names
    left join name_series on names.source = name_series.source and names.partner_name = name_series.partner_name
    left join current_edition
        on names.source = current_edition.source and names.partner_name = current_edition.partner_name
    left join per_name on names.source = per_name.source and names.partner_name = per_name.partner_name
    left join proposals on names.source = proposals.source and names.partner_name = proposals.partner_name

)

select * from final
