{#
    Whether this engine keeps the time-series marts' bookkeeping tables
    (incremental_watermarks, incremental_key_fingerprints; macros/learner_day_changes.sql).
#}

{% macro keeps_incremental_bookkeeping() -%}
    {{ return(adapter.dispatch('keeps_incremental_bookkeeping', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__keeps_incremental_bookkeeping() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__keeps_incremental_bookkeeping() -%}
    {#-
        Not on Spark yet: every Spark build is a full refresh, so no run reads a watermark or a
        fingerprint, and their post-hooks (DuckDB DML: insert or replace, update) are skipped.
        The step that makes the marts incremental on Spark writes them with insert overwrite.
    -#}
    {{ return(false) }}
{%- endmacro %}
