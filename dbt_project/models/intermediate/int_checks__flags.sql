-- Every flag of the plausibility gates (int_checks__values) and the download checks
-- (int_checks__downloads), each with the message a failing test prints and, when a statistician
-- has checked it, the acceptance from the accepted_values seed: a value is accepted by its
-- (source_file, flow, product, measure, partner_name, period), a download's flag by the same
-- with partner_name '*'. The assert_* tests fail on the flags not accepted;
-- marts.fct_accepted_values lists the accepted ones, and manifest.json records them.
{%- set seed_fields = ['source', 'source_file', 'flow', 'product', 'measure', 'partner_name', 'period'] %}
with

value_flags as (

    select * from {{ ref('int_checks__values') }}

),

download_flags as (

    select * from {{ ref('int_checks__downloads') }}

),

-- One acceptance a key (a line repeated in the seed counts once).
accepted as (

    select
        source, source_file, flow, product, measure, partner_name, period,
        string_agg(distinct reason, '; ') as reason,
        string_agg(distinct accepted_by, '; ') as accepted_by
    from {{ ref('accepted_values') }}
    group by all

),

unioned as (

    select
        check_name, source, flow, product, measure, period_grain, period_start, period, partner_name,
        value, download_date, source_file, source_row,
        compared_value, ratio, threshold,
        cast(null as date) as compared_download_date, cast(null as varchar) as compared_file,
        cast(null as bigint) as partners, cast(null as bigint) as compared_partners,
        source_file
        || case when source_row is null then '' when source_file like '%.xlsx' then ' row ' else ' line ' end
        || coalesce(cast(source_row as varchar), '') || ': ' || partner_name || ', ' || flow || ' ' || product
        || case when measure = 'value' then '' else ' ' || measure end || ', ' || period || ': '
        || finding as failure
    from value_flags

    union all

    select
        check_name, source, flow, product, measure, period_grain, period_start,
        strftime(period_start, '%Y-%m') as period, '*' as partner_name,
        cast(null as double) as value, download_date, source_file, cast(null as bigint) as source_row,
        cast(null as double) as compared_value, share as ratio, cast(null as double) as threshold,
        compared_download_date, compared_file, partners, compared_partners,
        source || ' download ' || strftime(download_date, '%Y-%m-%d') || ' (' || source_file || '), '
        || flow || ' ' || product || case when measure = 'value' then '' else ' ' || measure end
        || ', ' || strftime(period_start, '%Y-%m') || ': ' || finding as failure
    from download_flags

),

flags as (

    select
        unioned.*,
        -- the seed line that accepts this flag, once checked (a field with a comma quoted)
        {%- for field in seed_fields %}
            case
                when unioned.{{ field }} like '%,%' or unioned.{{ field }} like '%"%'
                    then '"' || replace(unioned.{{ field }}, '"', '""') || '"'
                else unioned.{{ field }}
            end || ',' ||
        {%- endfor %}
        '<why it is right>,<who checked it>' as acceptance_line,
        accepted.reason as accepted_reason,
        accepted.accepted_by,
        accepted.source_file is not null as is_accepted
    from unioned
    left join accepted
        on
            unioned.source = accepted.source
            and unioned.source_file = accepted.source_file
            and unioned.flow = accepted.flow
            and unioned.product = accepted.product
            and unioned.measure = accepted.measure
            and unioned.partner_name = accepted.partner_name
            and unioned.period = accepted.period

)

select * from flags
