{#
    One row per event id. Exact duplicates (rows identical in every raw column) collapse into
    one. When an id carries different payloads, one is kept by value, never by load order
    (the loader does not keep file order): the earliest event_at (a missing timestamp last),
    then session_id, event_metadata and the raw row hash ascending. The others are counted in
    conflicting_payload_count. Depends on the raw events only, so it can become incremental
    on event_id.
#}
with

events as (

    select * from {{ ref('base_raw__events') }}

),

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
    from events
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
        sum(raw_row_count) over (partition by event_id) as event_raw_row_count
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
        event_type is null or event_type not in {{ codes_sql('valid_event_types') }}
            as is_unknown_type
    from ranked
    where payload_rank = 1

)

select * from deduplicated
