-- The partner names no seed maps, for the publication (manifest.json) and the run's last
-- lines: those that could change a printed cell first (they fail the build), then by value.
with

unmapped as (

    select * from {{ ref('int_partners__unmapped') }}

),

final as (

    select
        source,
        partner_name,
        seed,
        seed_file,
        exhibit,
        latest_period,
        value_in_latest_period,
        unit,
        rank_would_have,
        top_n,
        smallest_shown_value,
        total_is_sum,
        could_change_printed_cell,
        proposed_code,
        proposed_from,
        first_source_file,
        first_download_date,
        last_download_date,
        source_rows
    from unmapped

)

select * from final
order by could_change_printed_cell desc, source asc, value_in_latest_period desc nulls last, partner_name asc
