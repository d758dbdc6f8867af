{#
    How fct_learner_course_days and the time-series marts stay incremental.

    The learner-day fact rewrites only the pairs whose learner days can differ from what it
    holds (changed_learner_pairs), and marks each row it writes with the run that wrote it
    (changed_at: dbt's run_started_at). A learner-day that stops counting stays as a marker
    (is_removed), so a reader sees every key that changed. A mart keeps, in the bookkeeping
    table incremental_watermarks (outside its contract and its CSV), the newest changed_at it
    has read and the as_of_date it was built at; a run recomputes what the learner-days changed
    since then reach. A mart that missed runs reads all their changes at once. A mart rebuilds
    in full when it has no watermark, when as_of_date moved backwards, when the fact was
    rebuilt (no row older than the watermark), or when its own check says so.
#}

{% macro learner_days_run_at() -%}
    {#- SQL literal: this run's mark on the rows it writes (dbt's run_started_at, UTC). -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro changed_learner_pairs(watermark, daily_activity, events, activity) -%}
    {#-
        SQL: the user x course pairs whose learner days may differ from the stored ones: a day
        the load batches after `watermark` added or changed, a day a replaced payload left, and
        a pair whose counted events as of as_of_date are not those stored (a learner gained or
        lost by a users or enrolments reload, as_of_date moved, a run that failed half way).
    -#}
    select
        user_id,
        course_id
    from {{ daily_activity }}
    where load_batch_id > {{ watermark }}

    union

    select
        replaced_user_id as user_id,
        replaced_course_id as course_id
    from {{ events }}
    where
        load_batch_id > {{ watermark }}
        and payload_change = 'new_payload'
        and replaced_user_id is not null
        and replaced_course_id is not null

    union

    select
        coalesce(current_pairs.user_id, stored_pairs.user_id) as user_id,
        coalesce(current_pairs.course_id, stored_pairs.course_id) as course_id
    from (
        select
            user_id,
            course_id,
            counted_event_count
        from {{ activity }}
        where is_learner and counted_event_count > 0
    ) as current_pairs
    full outer join (
        select
            user_id,
            course_id,
            sum(event_count) as counted_event_count
        from {{ this }}
        where not is_removed
        group by user_id, course_id
    ) as stored_pairs
        on
            current_pairs.user_id = stored_pairs.user_id
            and current_pairs.course_id = stored_pairs.course_id
    where current_pairs.counted_event_count is distinct from stored_pairs.counted_event_count
{%- endmacro %}

{% macro watermarks_table() -%}
    {{ this.database }}.{{ this.schema }}.incremental_watermarks
{%- endmacro %}

{% macro learner_days_seen(learner_days, full_rebuild_when=none) -%}
    {#-
        The newest changed_at of `learner_days` this mart has read, as a SQL literal, or none
        when it must rebuild in full (see the header). `full_rebuild_when`: the mart's own SQL
        condition for a full rebuild.
    -#}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set table = adapter.get_relation(this.database, this.schema, 'incremental_watermarks') -%}
    {%- if table is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sql -%}
        select
            strftime(seen.learner_days_changed_at, '%Y-%m-%d %H:%M:%S.%f'),
            seen.as_of_date > {{ as_of_date() }}
            or not exists (
                select 1 from {{ learner_days }}
                where changed_at <= seen.learner_days_changed_at
            )
            {%- if full_rebuild_when %}
            or ({{ full_rebuild_when }})
            {%- endif %}
        from {{ watermarks_table() }} as seen
        where seen.model_name = '{{ this.identifier }}'
    {%- endset -%}
    {%- set rows = run_query(sql).rows -%}
    {%- if rows | length == 0 or rows[0][0] is none or rows[0][1] -%}
        {% do log(this ~ ": no usable watermark, as_of_date moved back or its input was rebuilt - rebuilding it in full", info=true) %}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ rows[0][0] ~ "' as timestamp)") }}
{%- endmacro %}

{% macro remember_learner_days_seen(learner_days) -%}
    {#- Post-hook, in the model's transaction: the watermark of this mart (see the header). -#}
    create table if not exists {{ watermarks_table() }} (
        model_name varchar primary key,
        learner_days_changed_at timestamp,
        as_of_date date
    );
    insert or replace into {{ watermarks_table() }}
    select
        '{{ this.identifier }}',
        (select max(changed_at) from {{ learner_days }}),
        {{ as_of_date() }}
{%- endmacro %}
