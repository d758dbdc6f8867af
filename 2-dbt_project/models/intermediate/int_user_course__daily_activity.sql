{#
    One row per user x course x activity date (UTC) with at least one deduplicated event that
    could ever count - a timestamp, a user and a course - summarised: how many, how many of
    each type (one column per valid type, then the unknown ones), first and last event_at.

    Deliberately free of everything that can change without the events changing: no
    as_of_date (int_user_course__activity and the mart cut at it, so a backfill for an earlier
    date after a later one is right), no learner rule (users and enrolments are reloaded whole
    every day; deletions and cancellations apply at read time), no completion rules (counts
    per event type; the quiz and video lists apply at read time). The per-type columns follow
    var valid_event_types: changing that var changes the columns, and the next incremental run
    stops (on_schema_change='fail') until a --full-refresh rebuilds the model.

    Incremental by load batch (macros/load_batches.sql): the event rows the new batches changed
    add their kept payload to its day and take a replaced payload off its day. A day whose
    first or last instant was taken off is recounted from the events of the dates a payload
    was taken off, and the stored days are looked up on the dates the run changed, both as
    literal date ranges (macros/changed_dates.sql), so DuckDB reads those dates' row groups,
    not history; a day left empty is deleted. A full build writes the days in date order,
    which keeps those lookups narrow. If the deduplicated events changed twice since this
    model last ran (a run that failed in between), the replaced payloads it saw are gone, so
    it rebuilds instead.
#}
-- The CTEs of one mode (incremental or full build) sit in an if block at the top level:
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('merge'),
        full_refresh=rebuilt_every_run(),
        unique_key=['user_id', 'course_id', 'activity_date'],
        on_schema_change='fail',
        pre_hook="{{ reset_when_history_replaced(changes_in=ref('int_events__deduplicated')) }}",
        merge_clauses=merge_deleting_emptied_rows(),
    )
}}

-- asked once: each answer reads the model's watermark and the dedup model's changes
{% set every_batch = takes_every_load_batch(changes_in=ref('int_events__deduplicated')) %}
{% if not every_batch %}
    {% set changed_sql %}
        select * from {{ ref('int_events__deduplicated') }}
        where {{ unprocessed_load_batches(every_batch=every_batch) }}
    {% endset %}
    {% set removed_at_sql %}
        select replaced_event_at from ({{ changed_sql }}) where payload_change = 'new_payload'
    {% endset %}
    {% set changed_at_sql %}
        select event_at from ({{ changed_sql }})
        where payload_change in ('new_event', 'new_payload')
        union all
        {{ removed_at_sql }}
    {% endset %}
{% endif %}

with

events as (

    select * from {{ ref('int_events__deduplicated') }}

),

dated_events as (

    select
        user_id,
        course_id,
        cast(event_at as date) as activity_date,
        event_type,
        event_at,
        load_batch_id
    from events
    where
        event_at is not null
        and user_id is not null
        and course_id is not null

),

{% if not every_batch %}

changed_events as (

    -- read here, not through `events`: DuckDB materializes a CTE that is read twice, and
    -- `events` would then be all history, whatever the filters of its readers
    select * from {{ ref('int_events__deduplicated') }}
    where {{ unprocessed_load_batches(every_batch=every_batch) }}

),

moves as (

    -- +1 where a kept payload now counts, -1 where a replaced one counted
    select
        user_id,
        course_id,
        cast(event_at as date) as activity_date,
        event_type,
        event_at,
        load_batch_id,
        1 as sign
    from changed_events
    where payload_change in ('new_event', 'new_payload')

    union all

    select
        replaced_user_id as user_id,
        replaced_course_id as course_id,
        cast(replaced_event_at as date) as activity_date,
        replaced_event_type as event_type,
        replaced_event_at as event_at,
        load_batch_id,
        -1 as sign
    from changed_events
    where payload_change = 'new_payload'

),

deltas as (

    select
        user_id,
        course_id,
        activity_date,
        sum(sign) as event_count,
        {{ count_event_types('event_type', weight='sign') }},
        min(event_at) filter (where sign > 0) as first_added_at,
        max(event_at) filter (where sign > 0) as last_added_at,
        min(event_at) filter (where sign < 0) as first_removed_at,
        max(event_at) filter (where sign < 0) as last_removed_at,
        max(load_batch_id) as load_batch_id
    from moves
    where
        event_at is not null
        and user_id is not null
        and course_id is not null
    group by user_id, course_id, activity_date

),

stored as (

    select stored_days.*
    from {{ this }} as stored_days
    semi join deltas
        on
            stored_days.user_id = deltas.user_id
            and stored_days.course_id = deltas.course_id
            and stored_days.activity_date = deltas.activity_date
    where {{ within_dates_of('stored_days.activity_date', changed_at_sql) }}

),

recount_days as (

    -- days whose first or last event was taken off: only the events can say what is left
    select
        deltas.user_id,
        deltas.course_id,
        deltas.activity_date,
        deltas.load_batch_id
    from deltas
    inner join stored
        on
            deltas.user_id = stored.user_id
            and deltas.course_id = stored.course_id
            and deltas.activity_date = stored.activity_date
    where
        deltas.first_removed_at = stored.first_event_at
        or deltas.last_removed_at = stored.last_event_at

),

recount_events as (

    -- the events of the dates a payload was taken off, not all history
    select * from dated_events
    where {{ within_dates_of('event_at', removed_at_sql, 'timestamp') }}

),

recounted as (

    select
        recount_days.user_id,
        recount_days.course_id,
        recount_days.activity_date,
        count(recount_events.event_at) as event_count,
        {{ count_event_types('recount_events.event_type', present='recount_events.event_at') }},
        min(recount_events.event_at) as first_event_at,
        max(recount_events.event_at) as last_event_at,
        any_value(recount_days.load_batch_id) as load_batch_id
    from recount_days
    left join recount_events
        on
            recount_days.user_id = recount_events.user_id
            and recount_days.course_id = recount_events.course_id
            and recount_days.activity_date = recount_events.activity_date
    group by recount_days.user_id, recount_days.course_id, recount_days.activity_date

),

moved as (

    -- every other changed day: what it held plus what moved
    select
        deltas.user_id,
        deltas.course_id,
        deltas.activity_date,
        coalesce(stored.event_count, 0) + deltas.event_count as event_count,
        {%- for column in event_type_count_columns() %}
        coalesce(stored.{{ column }}, 0) + deltas.{{ column }} as {{ column }},
        {%- endfor %}
        least(stored.first_event_at, deltas.first_added_at) as first_event_at,
        greatest(stored.last_event_at, deltas.last_added_at) as last_event_at,
        deltas.load_batch_id
    from deltas
    left join stored
        on
            deltas.user_id = stored.user_id
            and deltas.course_id = stored.course_id
            and deltas.activity_date = stored.activity_date
    anti join recount_days
        on
            deltas.user_id = recount_days.user_id
            and deltas.course_id = recount_days.course_id
            and deltas.activity_date = recount_days.activity_date

),

daily_activity as (

    select * from recounted
    union all by name
    select * from moved

),

{% else %}

daily_activity as (

    select
        user_id,
        course_id,
        activity_date,
        count(*) as event_count,
        {{ count_event_types('event_type') }},
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        max(load_batch_id) as load_batch_id
    from dated_events
    group by user_id, course_id, activity_date

),

{% endif %}

final as (

    select
        user_id,
        course_id,
        activity_date,
        cast(event_count as bigint) as event_count,
        {%- for column in event_type_count_columns() %}
        cast({{ column }} as bigint) as {{ column }},
        {%- endfor %}
        first_event_at,
        last_event_at,
        load_batch_id
    from daily_activity

)

select * from final
{% if every_batch %}
-- in date order: the lookups of later runs by date then read few row groups
order by activity_date
{% endif %}
