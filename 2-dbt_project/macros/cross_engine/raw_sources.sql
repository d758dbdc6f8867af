{#
    The raw sources on each engine. DuckDB: the loader's raw.* tables in the database file,
    nothing to do. Spark: views raw.<table> over the raw zone, the Parquet copy of raw.* the
    loader writes (env COURSE_ENGAGEMENT_RAW_ZONE, an absolute path): <zone>/<table>/data.parquet,
    and the events as hive partitions <zone>/events/load_batch_id=<n>/data.parquet. Created
    on-run-start (dbt_project.yml), after spark__assert_raw_tables_loaded checked the folders.
#}

{% macro raw_zone_tables() -%}
    {#- The folders of the raw zone: the raw tables the loader writes (raw.*). -#}
    {{ return(['users', 'courses', 'enrolments', 'events', 'load_audit', 'load_batches', 'load_rejects']) }}
{%- endmacro %}

{% macro raw_zone_root() -%}
    {#- The raw zone's folder (env COURSE_ENGAGEMENT_RAW_ZONE), without a trailing slash. -#}
    {%- set root = env_var('COURSE_ENGAGEMENT_RAW_ZONE', '') | trim -%}
    {%- if not root.startswith('/') -%}
        {{ exceptions.raise_compiler_error(
            "COURSE_ENGAGEMENT_RAW_ZONE must be the absolute path of the raw zone (got '" ~ root
            ~ "'). The Spark target reads the raw tables there: load the data with"
            ~ " COURSE_ENGAGEMENT_RAW_ZONE set (course-engagement load writes the zone) and"
            ~ " run dbt with the same value."
        ) }}
    {%- endif -%}
    {{ return(root.rstrip('/')) }}
{%- endmacro %}

{% macro raw_sources_needed() -%}
    {#- True when this dbt command runs SQL against the raw sources (not parse, docs, lint). -#}
    {{ return(execute and flags.WHICH in ('build', 'run', 'test', 'compile', 'show') and target.name != 'lint') }}
{%- endmacro %}

{% macro spark__assert_raw_tables_loaded() %}
    {#- Every folder of the raw zone holds a Parquet file (a listing, no data read). -#}
    {%- if raw_sources_needed() -%}
        {%- set root = raw_zone_root() -%}
        {%- set listing -%}
            select distinct substring_index(substr(path, instr(path, '{{ root }}/') + {{ root | length + 1 }}), '/', 1)
            from binaryFile.`{{ root }}/*/*`
            where path like '%.parquet'
        {%- endset -%}
        {%- set found = run_query(listing).columns[0].values() | list -%}
        {%- set missing = raw_zone_tables() | reject('in', found) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "The raw zone " ~ root ~ " has no Parquet file in " ~ root ~ "/"
                ~ (missing | join('/, ' ~ root ~ '/')) ~ "/. Load the data with"
                ~ " COURSE_ENGAGEMENT_RAW_ZONE=" ~ root ~ " (course-engagement load writes"
                ~ " the zone), or point COURSE_ENGAGEMENT_RAW_ZONE at a complete zone."
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{% macro register_raw_sources() %}
    {{ return(adapter.dispatch('register_raw_sources', 'course_engagement')()) }}
{% endmacro %}

{% macro default__register_raw_sources() %}
{% endmacro %}

{% macro spark__register_raw_sources() %}
    {#-
        One view per folder. The events' load_batch_id is the partition folder's name, which
        Spark reads as an integer: cast to bigint as in raw.events, the other columns in the
        order _sources.yml lists them.
    -#}
    {%- if raw_sources_needed() -%}
        {%- set root = raw_zone_root() -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for table in raw_zone_tables() -%}
            {%- if table == 'events' -%}
                {%- set columns = [] -%}
                {%- for name in graph.sources['source.course_engagement.raw.events'].columns -%}
                    {%- do columns.append(
                        'cast(load_batch_id as bigint) as load_batch_id' if name == 'load_batch_id'
                        else adapter.quote(name)
                    ) -%}
                {%- endfor -%}
                {%- set select_list = columns | join(', ') -%}
            {%- else -%}
                {%- set select_list = '*' -%}
            {%- endif -%}
            {%- do run_query(
                'create or replace view raw.' ~ table ~ ' as select ' ~ select_list
                ~ ' from parquet.`' ~ root ~ '/' ~ table ~ '`'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
