{#
    One row per user x course x activity date (UTC) with at least one deduplicated event that
    could ever count - a timestamp, a user and a course - summarised: how many, how many of
    each type (one column per valid type, then the unknown ones), first and last event_at.

    Deliberately free of everything that can change without the events changing: no
    as_of_date (int_user_course__activity and the mart cut at it, so a backfill for an earlier
    date after a later one is right), no learner rule (users and enrolments are reloaded whole
    every day; deletions and cancellations apply at read time), no completion rules (counts
    per event type; the quiz and video lists apply at read time). What is stored is fact, so
    it only changes when deduplicated events change. The per-type columns follow var
    valid_event_types: changing that var changes the columns, and the next incremental run
    stops (on_schema_change='fail') until a --full-refresh rebuilds the model.

    Incremental (macros/incremental.sql has the pattern): per activity date, the count and the
    sum of event hashes of the deduplicated events are compared with what is stored; the dates
    that differ are recomputed in full - so an event whose kept payload moved to another date
    or learner changes both dates - and a key left without events is retracted.
#}
-- The CTEs of one mode (incremental or full build) sit in an if block at the top level:
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['user_id', 'course_id', 'activity_date'],
        on_schema_change='fail',
        merge_clauses=retracting_merge_clauses('event_count', 'events_fingerprint'),
    )
}}

with

events as (

    select * from {{ ref('int_events__deduplicated') }}

),

-- read twice in an incremental run: not materialized, hashing again is cheaper than a copy
dated_events as not materialized (

    select
        user_id,
        course_id,
        cast(event_at as date) as activity_date,
        event_type,
        event_at,
        hash(event_id, user_id, course_id, event_type, event_at) as event_hash
    from events
    where
        event_at is not null
        and user_id is not null
        and course_id is not null

),

{% if is_incremental() %}

stored as not materialized (

    select * from {{ this }}

),

source_dates as (

    select
        activity_date,
        count(*) as event_count,
        {{ row_hash_sum('event_hash') }} as events_fingerprint
    from dated_events
    group by activity_date

),

stored_dates as (

    select
        activity_date,
        sum(event_count) as event_count,
        sum(events_fingerprint) as events_fingerprint
    from stored
    group by activity_date

),

changed_dates as (

    {{ changed_keys(
        'source_dates', 'stored_dates', 'activity_date', 'event_count', 'events_fingerprint'
    ) }}

),

batch as (

    select * from dated_events
    where activity_date in (select activity_date from changed_dates)

),

stored_keys as (

    select
        user_id,
        course_id,
        activity_date
    from stored
    where activity_date in (select activity_date from changed_dates)

),

{% else %}

batch as (

    select * from dated_events

),

stored_keys as (

    -- a full build: nothing to retract
    select
        cast(null as bigint) as user_id,
        cast(null as bigint) as course_id,
        cast(null as date) as activity_date
    where false

),

{% endif %}

daily_activity as (

    select
        user_id,
        course_id,
        activity_date,
        count(*) as event_count,
        {{ count_event_types('event_type') }},
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        {{ row_hash_sum('event_hash') }} as events_fingerprint,
        {{ batch_number() }} as batch_number
    from batch
    group by user_id, course_id, activity_date

),

retracted as (

    -- keys of the recomputed dates that no longer have events: a zero count, which the
    -- merge turns into a delete
    select
        stored_keys.user_id,
        stored_keys.course_id,
        stored_keys.activity_date,
        cast(0 as bigint) as event_count,
        {%- for column in event_type_count_columns() %}
        cast(0 as bigint) as {{ column }},
        {%- endfor %}
        cast(null as timestamp) as first_event_at,
        cast(null as timestamp) as last_event_at,
        cast(0 as hugeint) as events_fingerprint,
        {{ batch_number() }} as batch_number
    from stored_keys
    left join daily_activity
        on
            stored_keys.user_id = daily_activity.user_id
            and stored_keys.course_id = daily_activity.course_id
            and stored_keys.activity_date = daily_activity.activity_date
    where daily_activity.user_id is null

)

select * from daily_activity
union all
select * from retracted
