{#
    Incremental models take the load batches they have not processed yet, and nothing else.

    The loader stamps every raw event with its load_batch_id and lists the batches raw.events
    holds in raw.load_batches (course_engagement.ingest.load_batches). Ids only grow and are never
    reused for other content. A model stores load_batch_id on every row it writes - the batch
    that last changed the row - so the newest batch it holds is max(load_batch_id), its
    watermark, and a run reads the rows of later batches: `where load_batch_id > watermark`,
    with the watermark a literal, which DuckDB answers from row-group statistics (zone maps)
    without reading older rows.

    History replaced: when the watermark batch is no longer in raw.load_batches, someone
    reloaded history with other files. The model then empties itself (a pre-hook) and takes
    every batch - a full refresh nobody has to remember. `dbt build --full-refresh` does the
    same on purpose, e.g. after a change of logic.

    On Spark every build of these models is a full refresh for now (their config:
    incremental_strategy_for(), rebuilt_every_run(), macros/cross_engine/incremental_config.sql),
    so is_incremental() is false there and none of this runs.
#}

{% macro load_batch_watermark() -%}
    {#- The newest load batch the model holds; none on a full build or an empty table. -#}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query('select max(load_batch_id) from ' ~ this) -%}
    {{ return(result.columns[0].values()[0]) }}
{%- endmacro %}

{% macro history_replaced(changes_in=none, watermark=none) -%}
    {#-
        True when the model must rebuild from every batch: its watermark batch is gone from
        raw.load_batches; or, for a model that reads the changes of an upstream incremental
        model (`changes_in`, whose rows carry previous_load_batch_id), a row changed twice since
        the watermark, so the state it replaced first was never seen here. `watermark`: the
        model's, when the caller has read it already.
    -#}
    {%- if watermark is none -%}
        {%- set watermark = load_batch_watermark() -%}
    {%- endif -%}
    {%- if watermark is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set sql -%}
        select
            not exists (
                select 1 from {{ source('raw', 'load_batches') }}
                where load_batch_id = {{ watermark }}
            )
            {%- if changes_in is not none %}
            or exists (
                select 1 from {{ changes_in }}
                where
                    load_batch_id > {{ watermark }}
                    and previous_load_batch_id > {{ watermark }}
            )
            {%- endif %}
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0]) }}
{%- endmacro %}

{% macro takes_every_load_batch(changes_in=none) -%}
    {#-
        True when this run builds the model from every batch: a full build, a first build, or a
        rebuild after history was replaced. The model then uses its full-build SQL.
    -#}
    {%- if not is_incremental() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set watermark = load_batch_watermark() -%}
    {{ return(watermark is none or history_replaced(changes_in, watermark)) }}
{%- endmacro %}

{% macro unprocessed_load_batches(changes_in=none, every_batch=none) -%}
    {#-
        SQL predicate on load_batch_id: the rows of the batches this model has not taken yet.
        `every_batch`: takes_every_load_batch()'s answer, when the model has asked already.
    -#}
    {%- if every_batch is none -%}
        {%- set every_batch = takes_every_load_batch(changes_in) -%}
    {%- endif -%}
    {%- if every_batch -%}
        true
    {%- else -%}
        load_batch_id > {{ load_batch_watermark() }}
    {%- endif -%}
{%- endmacro %}

{% macro reset_when_history_replaced(changes_in=none) -%}
    {#- Pre-hook: empty the model when it must rebuild from every batch (see above). -#}
    {%- if execute and is_incremental() and history_replaced(changes_in) -%}
        {% do log(this ~ ": history was reloaded, or changed twice since this model last ran - rebuilding it from every load batch", info=true) %}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{% macro full_history_checks() -%}
    {#-
        True when checks should read all history: a full refresh, or var full_history_checks
        (the DAG's param of the same name; run it weekly, and after any reload or incident).
    -#}
    {{ return(flags.FULL_REFRESH or (var('full_history_checks', false) | string | lower in ('true', '1', 'yes'))) }}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
    {#-
        dbt's `where` for data tests, plus one word: `where: new_load_batches` checks the rows
        written for this run's load batches - load_batch_id from var data_tests_from_load_batch
        on (the DAG passes the run's first new batch) - or every row in a full refresh, with var
        full_history_checks, or when the var is not set. Decided here, when the test runs, not
        when dbt parses the yml.
    -#}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'new_load_batches' -%}
        {%- if full_history_checks() -%}
            {%- set where = '' -%}
        {%- else -%}
            {%- set where = 'load_batch_id >= ' ~ (var('data_tests_from_load_batch', 0) | int) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro merge_deleting_emptied_rows() -%}
    {#-
        merge_clauses of a model that sums rows of its own key: a row of the run whose
        event_count is 0 was emptied by the run's changes, so a stored one is deleted and a new
        one is not inserted; any other row updates or inserts by name.
    -#}
    {{ return({
        'when_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.event_count = 0', 'action': 'delete'},
            {'action': 'update', 'mode': 'by_name'},
        ],
        'when_not_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.event_count > 0', 'action': 'insert', 'mode': 'by_name'},
        ],
    }) }}
{%- endmacro %}
