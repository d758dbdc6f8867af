{#
    One row per event id. Exact duplicates (rows identical in every raw column) collapse into
    one. When an id carries different payloads, one is kept by value, never by load order
    (the loader does not keep file order): the earliest event_at (a missing timestamp last),
    then session_id, event_metadata and the raw row hash ascending. The others are counted in
    conflicting_payload_count.

    Incremental (macros/incremental.sql has the pattern). A row depends on the raw rows of its
    id and on nothing else - no as_of_date, no users or enrolments, no vars - so it changes only
    when raw rows of its id change, and a run recomputes exactly those ids, whatever their
    event dates:
      1. raw and stored rows are fingerprinted per id range (count, sum of raw row hashes);
      2. in the ranges that differ, per id, which finds new ids, late events of any date, and
         exact duplicates or conflicting payloads of ids already stored;
      3. those ids are recomputed from all their raw rows, so the kept payload is the one a
         full refresh keeps; an id whose raw rows are gone comes back as a retraction
         (raw_row_count 0), which the merge deletes.
    An event id that is null never matches itself (as in a full build, where the not_null test
    stops the build on it).
#}
-- The CTEs of one mode (incremental or full build) sit in an if block at the top level:
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='event_id',
        on_schema_change='fail',
        merge_clauses=retracting_merge_clauses('raw_row_count'),
    )
}}

with

-- read several times in an incremental run: not materialized, or DuckDB would copy every raw
-- event (with its cleaned columns) into a temporary result first
events as not materialized (

    select * from {{ ref('base_raw__events') }}

),

{% if is_incremental() %}

stored as not materialized (

    select
        event_id,
        raw_row_count,
        raw_rows_fingerprint
    from {{ this }}

),

raw_ranges as (

    select
        {{ event_id_range('event_id') }} as event_id_range,
        count(*) as raw_row_count,
        {{ row_hash_sum('raw_row_hash') }} as raw_rows_fingerprint
    from events
    group by {{ event_id_range('event_id') }}

),

stored_ranges as (

    select
        {{ event_id_range('event_id') }} as event_id_range,
        sum(raw_row_count) as raw_row_count,
        sum(raw_rows_fingerprint) as raw_rows_fingerprint
    from stored
    group by {{ event_id_range('event_id') }}

),

changed_ranges as (

    {{ changed_keys(
        'raw_ranges', 'stored_ranges', 'event_id_range', 'raw_row_count', 'raw_rows_fingerprint'
    ) }}

),

raw_ids as (

    select
        event_id,
        count(*) as raw_row_count,
        {{ row_hash_sum('raw_row_hash') }} as raw_rows_fingerprint
    from events
    where {{ event_id_range('event_id') }} in (select event_id_range from changed_ranges)
    group by event_id

),

stored_ids as (

    select * from stored
    where {{ event_id_range('event_id') }} in (select event_id_range from changed_ranges)

),

changed_ids as (

    {{ changed_keys('raw_ids', 'stored_ids', 'event_id', 'raw_row_count', 'raw_rows_fingerprint') }}

),

batch as (

    select * from events
    where event_id in (select event_id from changed_ids)

),

{% else %}

changed_ids as (

    -- a full build: nothing to retract
    select
        cast(null as bigint) as event_id,
        false as is_gone
    where false

),

batch as (

    select * from events

),

{% endif %}

payloads as (

    -- one row per distinct raw row; raw_row_hash fixes every other column
    select
        event_id,
        raw_row_hash,
        any_value(user_id) as user_id,
        any_value(course_id) as course_id,
        any_value(session_id) as session_id,
        any_value(event_type) as event_type,
        any_value(event_metadata) as event_metadata,
        any_value(event_at) as event_at,
        count(*) as raw_row_count
    from batch
    group by event_id, raw_row_hash

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_id
            order by
                event_at asc nulls last,
                session_id asc nulls last,
                event_metadata asc nulls last,
                raw_row_hash asc
        ) as payload_rank,
        count(*) over (partition by event_id) as payload_count,
        sum(raw_row_count) over (partition by event_id) as event_raw_row_count,
        sum(cast(raw_row_hash as hugeint) * raw_row_count) over (
            partition by event_id
        ) as event_raw_rows_fingerprint
    from payloads

),

deduplicated as (

    select
        event_id,
        user_id,
        course_id,
        session_id,
        event_type,
        event_metadata,
        event_at,
        cast(event_raw_row_count as bigint) as raw_row_count,
        cast(event_raw_row_count - payload_count as bigint) as exact_duplicate_row_count,
        cast(payload_count - 1 as bigint) as conflicting_payload_count,
        event_raw_rows_fingerprint as raw_rows_fingerprint,
        {{ batch_number() }} as batch_number
    from ranked
    where payload_rank = 1

),

retracted as (

    -- ids whose raw rows are gone: a zero count, which the merge turns into a delete
    select
        event_id,
        cast(null as bigint) as user_id,
        cast(null as bigint) as course_id,
        cast(null as varchar) as session_id,
        cast(null as varchar) as event_type,
        cast(null as varchar) as event_metadata,
        cast(null as timestamp) as event_at,
        cast(0 as bigint) as raw_row_count,
        cast(0 as bigint) as exact_duplicate_row_count,
        cast(0 as bigint) as conflicting_payload_count,
        cast(0 as hugeint) as raw_rows_fingerprint,
        {{ batch_number() }} as batch_number
    from changed_ids
    where is_gone

)

select * from deduplicated
union all
select * from retracted
