{#
    One row per event date (UTC) of the de-duplicated events, and one row for the events
    without a timestamp (event_date null): how many events, the raw rows de-duplication
    dropped as exact duplicates and as conflicting payloads, and the events without a user or
    a course. What mart_event_reconciliation needs from the events, without reading them:
    as_of_date applies at read time (an event is after the end of as_of_date exactly when its
    date is after it).

    Incremental by load batch (macros/load_batches.sql): each de-duplicated event the new
    batches changed adds its counts to its date and takes the counts it had before
    (previous_* and, for a replaced payload, replaced_*) off the date it was on, so a late
    re-delivery of an old id moves that id's counts, whatever its age; a date left without
    events is deleted. It reads the changed events only. Like the daily model it rebuilds
    when the de-duplicated events changed twice since it last ran (the counts it would take
    off are no longer known), and when history was reloaded.
#}
-- The CTEs of one mode (incremental or full build) sit in an if block at the top level:
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('merge'),
        full_refresh=rebuilt_every_run(),
        unique_key='event_date_key',
        on_schema_change='fail',
        pre_hook="{{ reset_when_history_replaced(changes_in=ref('int_events__deduplicated')) }}",
        merge_clauses=merge_deleting_emptied_rows(),
    )
}}

-- asked once: each answer reads the model's watermark and the dedup model's changes
{% set every_batch = takes_every_load_batch(changes_in=ref('int_events__deduplicated')) %}

with

events as (

    select * from {{ ref('int_events__deduplicated') }}
    where {{ unprocessed_load_batches(every_batch=every_batch) }}

),

{% if not every_batch %}

moves as (

    -- each changed event's counts now, and (-) the counts it had before, on the date it was
    select
        cast(event_at as date) as event_date,
        1 as event_count,
        exact_duplicate_row_count,
        conflicting_payload_count,
        cast(user_id is null or course_id is null as integer) as no_user_or_course_event_count,
        load_batch_id
    from events

    union all

    select
        cast(if(payload_change = 'new_payload', replaced_event_at, event_at) as date)
            as event_date,
        -1 as event_count,
        -previous_exact_duplicate_row_count as exact_duplicate_row_count,
        -previous_conflicting_payload_count as conflicting_payload_count,
        -cast(
            if(
                payload_change = 'new_payload',
                replaced_user_id is null or replaced_course_id is null,
                user_id is null or course_id is null
            ) as integer
        ) as no_user_or_course_event_count,
        load_batch_id
    from events
    where payload_change <> 'new_event'

),

stored as (

    -- one row per date: small enough to read whole
    select * from {{ this }}

),

date_counts as (

    select
        moves.event_date,
        coalesce(any_value(stored.event_count), 0) + sum(moves.event_count) as event_count,
        coalesce(any_value(stored.exact_duplicate_row_count), 0)
        + sum(moves.exact_duplicate_row_count) as exact_duplicate_row_count,
        coalesce(any_value(stored.conflicting_payload_count), 0)
        + sum(moves.conflicting_payload_count) as conflicting_payload_count,
        coalesce(any_value(stored.no_user_or_course_event_count), 0)
        + sum(moves.no_user_or_course_event_count) as no_user_or_course_event_count,
        max(moves.load_batch_id) as load_batch_id
    from moves
    left join stored
        on moves.event_date is not distinct from stored.event_date
    group by moves.event_date

),

{% else %}

date_counts as (

    select
        cast(event_at as date) as event_date,
        count(*) as event_count,
        sum(exact_duplicate_row_count) as exact_duplicate_row_count,
        sum(conflicting_payload_count) as conflicting_payload_count,
        count(*) filter (where user_id is null or course_id is null)
            as no_user_or_course_event_count,
        max(load_batch_id) as load_batch_id
    from events
    group by cast(event_at as date)

),

{% endif %}

final as (

    select
        -- the merge key: a date, or 'none' for the events without a timestamp (a null key
        -- would never match its stored row)
        coalesce(cast(event_date as string), 'none') as event_date_key,
        event_date,
        cast(event_count as bigint) as event_count,
        cast(exact_duplicate_row_count as bigint) as exact_duplicate_row_count,
        cast(conflicting_payload_count as bigint) as conflicting_payload_count,
        cast(no_user_or_course_event_count as bigint) as no_user_or_course_event_count,
        cast(load_batch_id as bigint) as load_batch_id
    from date_counts

)

select * from final
{% if every_batch %}
order by event_date
{% endif %}
