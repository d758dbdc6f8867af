{#
    Row identity in the base models: a row's id within one load, and a fingerprint of a raw
    row. DuckDB: the table's rowid and hash() (unsigned 64-bit). Spark: monotonically_increasing_id()
    (unique within a query, not the file order, as rowid) and xxhash64() (signed 64-bit). A
    fingerprint is only ever compared with others of the same engine and event id; which one of
    an event id's tied payloads is kept can differ between engines only when two payloads agree
    on event_at, session_id and event_metadata (int_events__deduplicated).
#}

{% macro raw_row_id() -%}
    {#- SQL: the row's id within the raw table as loaded (a select item of the source). -#}
    {{ return(adapter.dispatch('raw_row_id', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__raw_row_id() -%}
    rowid
{%- endmacro %}

{% macro spark__raw_row_id() -%}
    monotonically_increasing_id()
{%- endmacro %}

{% macro row_hash(columns) -%}
    {#- SQL: a 64-bit hash of the values of `columns` (a list of column names). -#}
    {{ return(adapter.dispatch('row_hash', 'course_engagement')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{% macro hash_type() -%}
    {#- The SQL type row_hash() returns. -#}
    {{ return(adapter.dispatch('hash_type', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__hash_type() -%}
    ubigint
{%- endmacro %}

{% macro spark__hash_type() -%}
    bigint
{%- endmacro %}

{% macro hash_list_type() -%}
    {#- The SQL type of a list of row_hash() values. -#}
    {{ return(adapter.dispatch('hash_list_type', 'course_engagement')()) }}
{%- endmacro %}

{% macro default__hash_list_type() -%}
    ubigint[]
{%- endmacro %}

{% macro spark__hash_list_type() -%}
    array<bigint>
{%- endmacro %}
