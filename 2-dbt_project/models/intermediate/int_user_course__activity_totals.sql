{#
    One row per user x course pair with at least one day in int_user_course__daily_activity:
    the sums of all its days, whatever as_of_date - events, events per type (the daily
    model's per-type columns), first and last event_at. int_user_course__activity cuts them
    at as_of_date by taking off the pair's days after it, so a report reads one row per pair
    and the few days after as_of_date, never every stored day.

    Incremental by load batch (macros/load_batches.sql): the pairs of the event rows the new
    batches changed - the kept payload's and the one it replaced - are summed again from their
    days in the daily model, built before this one; a pair left without a day is deleted.
    Like the daily model it rebuilds when the deduplicated events changed twice since it last
    ran (a pair an event left in between would not be seen).
#}
-- The CTEs of one mode (incremental or full build) sit in an if block at the top level:
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('merge'),
        full_refresh=rebuilt_every_run(),
        unique_key=['user_id', 'course_id'],
        on_schema_change='fail',
        pre_hook="{{ reset_when_history_replaced(changes_in=ref('int_events__deduplicated')) }}",
        merge_clauses=merge_deleting_emptied_rows(),
    )
}}

-- asked once: each answer reads the model's watermark and the dedup model's changes
{% set every_batch = takes_every_load_batch(changes_in=ref('int_events__deduplicated')) %}

with

daily_activity as (

    select * from {{ ref('int_user_course__daily_activity') }}

),

{% if not every_batch %}

changed_events as (

    select * from {{ ref('int_events__deduplicated') }}
    where {{ unprocessed_load_batches(every_batch=every_batch) }}

),

changed_pairs as (

    -- the pairs whose days the new batches may have changed
    select
        user_id,
        course_id,
        max(load_batch_id) as load_batch_id
    from (
        select
            user_id,
            course_id,
            load_batch_id
        from changed_events

        union all

        select
            replaced_user_id as user_id,
            replaced_course_id as course_id,
            load_batch_id
        from changed_events
        where payload_change = 'new_payload'
    ) as touched
    where user_id is not null and course_id is not null
    group by user_id, course_id

),

pair_days as (

    select
        daily_activity.* replace (
            greatest(daily_activity.load_batch_id, changed_pairs.load_batch_id) as load_batch_id
        )
    from daily_activity
    inner join changed_pairs
        on
            daily_activity.user_id = changed_pairs.user_id
            and daily_activity.course_id = changed_pairs.course_id

),

{% else %}

pair_days as (

    select * from daily_activity

),

{% endif %}

pair_totals as (

    select
        user_id,
        course_id,
        sum(event_count) as event_count,
        {%- for column in event_type_count_columns() %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at,
        max(load_batch_id) as load_batch_id
    from pair_days
    group by user_id, course_id

    {%- if not every_batch %}

    union all

    -- a changed pair with no day left: event_count 0, which the merge deletes
    select
        changed_pairs.user_id,
        changed_pairs.course_id,
        0 as event_count,
        {%- for column in event_type_count_columns() %}
        0 as {{ column }},
        {%- endfor %}
        null as first_event_at,
        null as last_event_at,
        changed_pairs.load_batch_id
    from changed_pairs
    anti join pair_days
        on
            changed_pairs.user_id = pair_days.user_id
            and changed_pairs.course_id = pair_days.course_id
    {%- endif %}

),

final as (

    select
        user_id,
        course_id,
        cast(event_count as bigint) as event_count,
        {%- for column in event_type_count_columns() %}
        cast({{ column }} as bigint) as {{ column }},
        {%- endfor %}
        cast(first_event_at as timestamp) as first_event_at,
        cast(last_event_at as timestamp) as last_event_at,
        cast(load_batch_id as bigint) as load_batch_id
    from pair_totals

)

select * from final
