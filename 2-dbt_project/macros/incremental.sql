{#
    Helpers shared by the two incremental models, int_events__deduplicated and
    int_user_course__daily_activity.

    The pattern, the same in both: a model stores, beside each row, a fingerprint of the input
    it was computed from (a row count and a sum of 64-bit row hashes). An incremental run
    fingerprints its input again, cheaply per partition (event id range, or activity date),
    compares with what is stored, recomputes the partitions (and within them the keys) whose
    fingerprint differs, and merges the result: changed keys are updated, new keys inserted,
    and keys whose input is gone come back as retractions (a zero count) that the merge
    deletes. So a run is exact whatever changed and however late it arrived, and a run on
    unchanged input writes nothing. No lookback window is needed: a lookback would be a guess
    about how late data can arrive, and an event a day older than the guess would be missed.

    Full refresh: `dbt build --full-refresh` (or `--full-refresh -s <model>`) rebuilds them
    from all raw events. Needed only when the logic changes - the model SQL, the cleaning
    macros of base_raw__events, or DuckDB's hash function (a change of which makes every
    partition differ, so the next run recomputes everything anyway). on_schema_change='fail'
    stops an incremental run whose columns no longer match the table, saying to full-refresh.
#}

{% macro event_id_range(column) -%}
    {#- The id range an event id falls in: every raw row of one id is in the same range. -#}
    {%- set size = var('event_id_partition_size') | int(0) -%}
    {%- if size < 1 -%}
        {{ exceptions.raise_compiler_error(
            "var event_id_partition_size must be a positive integer (got '"
            ~ var('event_id_partition_size') ~ "'); see vars in dbt_project.yml."
        ) }}
    {%- endif -%}
    ({{ column }} // {{ size }})
{%- endmacro %}

{% macro row_hash_sum(hash_column) -%}
    {#- Sum of 64-bit hashes, exact (HUGEINT), order-independent: a fingerprint of a set of rows. -#}
    sum(cast({{ hash_column }} as hugeint))
{%- endmacro %}

{% macro changed_keys(new, stored, key, count_column, fingerprint_column) -%}
    {#-
        SQL: the keys whose fingerprint differs between `new` (the input, fingerprinted now) and
        `stored` (what the model holds), both CTEs with one row per `key`: new keys, changed
        keys, and keys gone from the input (is_gone). The one comparison of the pattern above,
        used per partition (id range, activity date) and per key.
    -#}
    select
        coalesce({{ new }}.{{ key }}, {{ stored }}.{{ key }}) as {{ key }},
        {{ new }}.{{ key }} is null as is_gone
    from {{ new }}
    full outer join {{ stored }}
        on {{ new }}.{{ key }} = {{ stored }}.{{ key }}
    where
        {{ new }}.{{ count_column }} is distinct from {{ stored }}.{{ count_column }}
        or {{ new }}.{{ fingerprint_column }} is distinct from {{ stored }}.{{ fingerprint_column }}
{%- endmacro %}

{% macro batch_number() -%}
    {#-
        SQL: the number stored on every row a run writes. 0 for a full build; an incremental
        run takes one more than the largest in the table, so the rows of the latest run that
        changed anything are those with the largest number.
    -#}
    {%- if is_incremental() -%}
        cast((select coalesce(max(batch_number), 0) + 1 from {{ this }}) as bigint)
    {%- else -%}
        cast(0 as bigint)
    {%- endif -%}
{%- endmacro %}

{% macro retracting_merge_clauses(count_column, fingerprint_column=none) -%}
    {#-
        dbt-duckdb merge_clauses for the pattern above: a source row with count_column = 0 is a
        retraction and deletes its key; any other row updates its key (only when the
        fingerprint differs, if one is given, so unchanged rows are not rewritten) or inserts it.
    -#}
    {%- set source = 'DBT_INTERNAL_SOURCE.' -%}
    {%- set update = {'action': 'update', 'mode': 'by_name'} -%}
    {%- if fingerprint_column -%}
        {%- do update.update({
            'condition': source ~ fingerprint_column ~ ' is distinct from DBT_INTERNAL_DEST.'
                ~ fingerprint_column
        }) -%}
    {%- endif -%}
    {{ return({
        'when_matched': [
            {'condition': source ~ count_column ~ ' = 0', 'action': 'delete'},
            update,
        ],
        'when_not_matched': [
            {'condition': source ~ count_column ~ ' > 0', 'action': 'insert', 'mode': 'by_name'},
        ],
    }) }}
{%- endmacro %}
