{#
    on-run-start: stop a build/run/test that points at a database without the raw tables,
    with a message that says what to do, instead of one "table does not exist" error per
    base model. On Spark the raw tables are views over the raw zone, and the check is that the
    zone has every folder (macros/cross_engine/raw_sources.sql).
#}
{% macro assert_raw_tables_loaded() %}
    {{ return(adapter.dispatch('assert_raw_tables_loaded', 'course_engagement')()) }}
{% endmacro %}

{% macro default__assert_raw_tables_loaded() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'test') and target.name != 'lint' -%}
        {%- set expected = ['users', 'courses', 'enrolments', 'events'] -%}
        {%- set found = run_query(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).columns[0].values() | map('lower') | list -%}
        {%- set missing = expected | reject('in', found) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "The database " ~ target.path ~ " has no raw." ~ (missing | join(', raw.'))
                ~ " table. Load it first (uv run python scripts/init_db.py), run dbt from the"
                ~ " repo root (the default database path mock_data.duckdb is relative to the"
                ~ " working directory), or set COURSE_ENGAGEMENT_DB to the loaded database."
            ) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
