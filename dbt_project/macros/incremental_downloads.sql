{#-
    Incremental models over the downloads: a build processes only the downloads added, changed or
    removed since the model was last built, and swaps the partitions they touch.

    - A download is (source, download_date). int_observations__downloads fingerprints each one as
      loaded: its files as the loader read them (path, BLAKE3 hash, rows, ingestion code version: its
      record raw._ingested_files); without that record, a hash of its rows in the raw table.
    - Each incremental model records, when it is built, the fingerprints it was built from
      (record_downloads(), a post-hook, into intermediate.incremental_downloads: a row per model
      and download), salted with the model's signature: the code of the model and of every model and
      seed upstream of it, and the values of the vars it reads. A change of code, seed or var
      changes every fingerprint, and the model is built again from every download (as with
      --full-refresh, which rebuilds it too). dbt gives a model's macros no checksum: after a change
      to the macros a model calls (these), rebuild with `make dbt-build` (--full-refresh).
    - downloads_changed() compares them: a download with no recorded fingerprint is 'added'; one
      whose fingerprint differs is 'changed', one no longer loaded 'removed'. With no record at all
      (a table built before the model was incremental) every download counts as changed.
    - The model returns every row of each partition to replace (the unique_key columns), and a
      marker row (the partition_marker column null) for each, so that one left without rows is
      emptied; the replace_partitions strategy deletes those partitions and inserts the rows.
-#}

{#- int_observations__downloads: a row per download loaded (source, download_date, files, raw_rows,
    fingerprint), from the loader's record of the files it read; without one, from the raw tables'
    rows (every source in the raw schema). -#}
{% macro loaded_downloads() %}
    {%- set ingested = adapter.get_relation(
        database=target.database, schema='raw', identifier='_ingested_files') if execute else none -%}
    {%- if ingested is not none or not execute %}
    select
        source,
        download_date,
        count(*) as files,
        sum(rows) as raw_rows,
        md5(string_agg(
            source_file || ' ' || blake3 || ' ' || rows || ' ' || code_version, '; ' order by source_file
        )) as fingerprint
    from {{ ingested if ingested is not none else 'raw._ingested_files' }}
    group by source, download_date
    {%- else %}
        {%- for node in graph.sources.values() | selectattr('schema', 'equalto', 'raw') %}
    select
        '{{ node.source_name }}' as source,
        loaded.download_date,
        count(distinct loaded.source_file) as files,
        count(*) as raw_rows,
        md5(cast(count(*) as varchar) || ' ' || cast(bit_xor(hash(loaded)) as varchar)) as fingerprint
    from {{ api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier) }} as loaded
    group by loaded.download_date
            {{- '\n    union all' if not loop.last }}
        {%- endfor %}
    {%- endif %}
{% endmacro %}


{#- The strategy: every partition (unique_key) the new rows hold is replaced by them. -#}
{% macro get_incremental_replace_partitions_sql(arg_dict) %}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set temp = arg_dict['temp_relation'] -%}
    {%- set keys = [arg_dict['unique_key']] if arg_dict['unique_key'] is string else arg_dict['unique_key'] -%}
    {%- set marker = config.get('meta', {}).get('partition_marker') -%}
    {%- if not keys or not marker -%}
        {{ exceptions.raise_compiler_error(
            'replace_partitions needs unique_key (the partition) and meta.partition_marker in ' ~ this) }}
    {%- endif -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} as existing
    where exists (
        select 1 from (select distinct {{ keys | join(', ') }} from {{ temp }}) as replaced
        where
            {% for key in keys -%}
                replaced.{{ key }} is not distinct from existing.{{ key }}{{ ' and' if not loop.last }}
            {% endfor %}
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ temp }}
    where {{ marker }} is not null
{% endmacro %}


{#- Where each incremental model records the downloads it was built from. -#}
{% macro incremental_downloads_relation() %}
    {{ return(api.Relation.create(
        database=this.database, schema=this.schema, identifier='incremental_downloads', type='table')) }}
{% endmacro %}


{#- A pre-hook: the record exists before the model reads it. -#}
{% macro incremental_downloads_table() %}
    create table if not exists {{ incremental_downloads_relation() }} (
        model varchar not null,
        source varchar not null,
        download_date date not null,
        fingerprint varchar not null
    )
{% endmacro %}


{#- The model's signature: its code and that of every model and seed upstream of it, and the vars
    it reads (those its SQL names, and meta.incremental_vars: the vars a model upstream reads that
    decide this model's rows, such as as_of_date for the editions' cut-offs). -#}
{% macro incremental_signature() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- do _collect_checksums(model.unique_id, parts, []) -%}
    {%- set names = modules.re.findall("var\\(\\s*['\"](\\w+)['\"]", model.raw_code) -%}
    {%- set names = names + config.get('meta', {}).get('incremental_vars', []) -%}
    {%- for name in names | unique | sort -%}
        {%- do parts.append('var ' ~ name ~ '=' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | sort | join('\n'))) }}
{% endmacro %}

{% macro _collect_checksums(unique_id, parts, seen) %}
    {%- set node = graph.nodes.get(unique_id) -%}
    {%- if node and unique_id not in seen -%}
        {%- do seen.append(unique_id) -%}
        {%- do parts.append(unique_id ~ ' ' ~ node.checksum.checksum) -%}
        {%- for parent in node.depends_on.nodes -%}
            {%- do _collect_checksums(parent, parts, seen) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{#- Each download loaded now, with the fingerprint this model records for it. -#}
{% macro download_fingerprints() %}
    select
        source,
        download_date,
        md5(fingerprint || '|{{ incremental_signature() }}') as fingerprint
    from {{ ref('int_observations__downloads') }}
{% endmacro %}


{#- A post-hook: the downloads the model was just built from. -#}
{% macro record_downloads() %}
    delete from {{ incremental_downloads_relation() }} where model = '{{ this.identifier }}';
    insert into {{ incremental_downloads_relation() }} (model, source, download_date, fingerprint)
    select '{{ this.identifier }}', source, download_date, fingerprint
    from ({{ download_fingerprints() }}) as loaded
{% endmacro %}


{#- The downloads added, changed or removed since the model was last built (source, download_date,
    change: added, changed or removed). Every download counts as changed when nothing is recorded;
    none in a full build. -#}
{% macro downloads_changed() %}
    {%- if not is_incremental() %}
    select cast(null as varchar) as source, cast(null as date) as download_date, cast(null as varchar) as change
    where false
    {%- else %}
    with

    loaded as (

        {{ download_fingerprints() }}

    ),

    recorded as (

        select source, download_date, fingerprint
        from {{ incremental_downloads_relation() }}
        where model = '{{ this.identifier }}'

    ),

    compared as (

        select
            coalesce(loaded.source, recorded.source) as source,
            coalesce(loaded.download_date, recorded.download_date) as download_date,
            case
                when not exists (select 1 from recorded) then 'changed'
                when recorded.fingerprint is null then 'added'
                when loaded.fingerprint is null then 'removed'
                else 'changed'
            end as change
        from loaded
        full outer join recorded
            on loaded.source = recorded.source and loaded.download_date = recorded.download_date
        where loaded.fingerprint is distinct from recorded.fingerprint

    )

    select * from compared
    {%- endif %}
{% endmacro %}


{#- A condition: in an incremental build, the row is of a download that changed (the CTE `changed`,
    from downloads_changed()) and was not removed; true in a full build. `source_sql`: its source. -#}
{% macro is_changed_download(source_sql) %}
    {%- if is_incremental() -%}
        ({{ source_sql }}, download_date) in (
            select changed.source, changed.download_date from changed where changed.change <> 'removed'
        )
    {%- else -%}
        true
    {%- endif -%}
{% endmacro %}


{#- In an incremental build, a join keeping the rows of `alias` whose coverage key is computed again
    (the CTE `affected`, from affected_coverage_keys(): one row a key); nothing in a full build. (A
    join, not a correlated exists: DuckDB joins the table once. Keys with a null part match none: no
    model keeps such rows, its vintages join on equality.) -#}
{% macro join_affected(alias) %}
    {%- if is_incremental() -%}
        inner join affected
            on
                {% for column in coverage_key() -%}
                    {{ alias }}.{{ column }} = affected.{{ column }}{{ ' and' if not loop.last }}
                {% endfor -%}
    {%- endif -%}
{% endmacro %}


{#- The coverage key: what one download covers (int_observations__unioned). -#}
{% macro coverage_key() %}
    {{ return(['source', 'flow', 'product', 'measure', 'period_grain', 'period_start']) }}
{% endmacro %}


{#- Null-safe equality of the coverage key (or of `columns`) of two relations. -#}
{% macro same_key(left, right, columns=none) %}
    {%- for column in (columns or coverage_key()) -%}
        {{ left }}.{{ column }} is not distinct from {{ right }}.{{ column }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{% endmacro %}


{#- The coverage keys whose rows the changed downloads (the CTE `changed`) may change (none in a full
    build): those the added downloads cover, and every key of a source one of whose downloads
    changed or went away (as `covered` covers them now and as the table holds them). With
    later_periods, also every later period of the same (source, flow, product, measure): for a model
    whose rows read the periods before them (a series' history). `covered`: a relation or CTE with
    the coverage key and download_date of every download loaded. -#}
{% macro affected_coverage_keys(covered, later_periods=false) %}
    {%- set key = coverage_key() | join(', ') -%}
    {%- set group = coverage_key()[:-1] | join(', ') -%}
    {%- if not is_incremental() %}
    select
        cast(null as varchar) as source, cast(null as varchar) as flow, cast(null as varchar) as product,
        cast(null as varchar) as measure, cast(null as varchar) as period_grain, cast(null as date) as period_start
    from changed
    where false
    {%- elif not later_periods %}
    select distinct {{ key }} from (
        select {{ key }} from {{ covered }}
        where (source, download_date) in (select source, download_date from changed where change = 'added')
        union all
        select {{ key }} from {{ covered }}
        where source in (select source from changed where change <> 'added')
        union all
        select {{ key }} from {{ this }}
        where source in (select source from changed where change <> 'added')
    ) as affected
    {%- else %}
    with

    firsts as (

        -- the first period an added download covers in each (source, flow, product, measure)
        select {{ group }}, min(period_start) as first_period_start
        from {{ covered }}
        where (source, download_date) in (select source, download_date from changed where change = 'added')
        group by {{ group }}

        union all

        -- every period of a source one of whose downloads changed or went away
        select distinct {{ group }}, null
        from {{ covered }}
        where source in (select source from changed where change <> 'added')

    ),

    affected as (

        select distinct {% for column in coverage_key() %}covered.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
        from {{ covered }} as covered
        inner join firsts
            on
                {{ same_key('covered', 'firsts', coverage_key()[:-1]) }}
                and (firsts.first_period_start is null or covered.period_start >= firsts.first_period_start)

        union

        select {{ key }} from {{ this }}
        where source in (select source from changed where change <> 'added')

    )

    select * from affected
    {%- endif %}
{% endmacro %}


{#- For a model built with affected_coverage_keys(later_periods=true): in an incremental build, a join
    keeping the rows of `alias` in a (source, flow, product, measure) computed again, at or after the
    first period computed again there (the CTE `firsts`: first_period_start) or within
    `months_before` months before it; nothing in a full build. (A join, not a correlated exists:
    DuckDB joins the table once.) -#}
{% macro join_from_first_period(alias, months_before=0) %}
    {%- if is_incremental() -%}
        inner join firsts
            on
                {% for column in coverage_key()[:-1] -%}
                    {{ alias }}.{{ column }} = firsts.{{ column }} and
                {% endfor -%}
                {{ alias }}.period_start >= firsts.first_period_start - interval ({{ months_before }}) month
    {%- endif -%}
{% endmacro %}
