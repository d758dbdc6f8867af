{#
    The 64-bit hash of the incremental key fingerprints (macros/learner_day_changes.sql). A
    fingerprint only has to be stable within one engine: DuckDB's hash (ubigint), Spark's
    xxhash64 (bigint).
#}

{% macro fingerprint_hash(expressions) -%}
    {#- SQL: the hash of the comma-separated `expressions`. -#}
    {{ return(adapter.dispatch('fingerprint_hash', 'course_engagement')(expressions)) }}
{%- endmacro %}

{% macro default__fingerprint_hash(expressions) -%}
    hash({{ expressions }})
{%- endmacro %}

{% macro spark__fingerprint_hash(expressions) -%}
    xxhash64({{ expressions }})
{%- endmacro %}

{% macro fingerprint_type() -%}
    {#- SQL type of fingerprint_hash's values. -#}
    {{ return(adapter.dispatch('fingerprint_type', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__fingerprint_type() -%}
    {{ return('ubigint') }}
{%- endmacro %}

{% macro spark__fingerprint_type() -%}
    {{ return('bigint') }}
{%- endmacro %}
