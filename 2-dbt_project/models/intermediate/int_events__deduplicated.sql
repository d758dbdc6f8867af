{#
    One row per event id. Exact duplicates (rows identical in every raw column) collapse into
    one. When an id carries different payloads, one is kept by value, never by load order:
    the earliest event_at (a missing timestamp last), then session_id, event_metadata and the
    raw row hash ascending. The others are counted in conflicting_payload_count.

    The kept payload is the least of an id's payloads in that order, so it can be found a batch
    at a time: an incremental run (macros/load_batches.sql) takes the raw rows of the new load
    batches only, and for the ids they carry compares their payloads with the stored one. So a
    late event of any age, an exact re-delivery and a conflicting payload that wins or loses
    all cost what the new rows cost. A row the run changes records how (payload_change), the
    counts it had before, and, when its kept payload changed, the one it replaced - for the
    models that apply its changes (int_user_course__daily_activity, int_events__date_counts).
#}
-- The CTEs of one mode (incremental or full build) sit in an if block at the top level:
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('merge'),
        full_refresh=rebuilt_every_run(),
        unique_key='event_id',
        on_schema_change='fail',
        pre_hook="{{ reset_when_history_replaced() }}",
    )
}}

-- asked once: each answer reads the model's watermark
{% set every_batch = takes_every_load_batch() %}

with

batch as (

    select * from {{ ref('base_raw__events') }}
    where {{ unprocessed_load_batches(every_batch=every_batch) }}

),

{% if not every_batch %}

stored as (

    select * from {{ this }}
    where event_id in (select event_id from batch)

),

{% else %}

stored as (

    select
        cast(null as bigint) as event_id,
        cast(null as bigint) as user_id,
        cast(null as bigint) as course_id,
        cast(null as string) as session_id,
        cast(null as string) as event_type,
        cast(null as string) as event_metadata,
        cast(null as timestamp) as event_at,
        cast(null as {{ hash_type() }}) as raw_row_hash,
        cast(null as {{ hash_list_type() }}) as payload_hashes,
        cast(null as bigint) as raw_row_count,
        cast(null as bigint) as exact_duplicate_row_count,
        cast(null as bigint) as conflicting_payload_count,
        cast(null as bigint) as load_batch_id
    where false

),

{% endif %}

compared_ids as (

    -- ids that need a comparison of payloads: delivered more than once in the batch, or stored
    -- already. Every other id of the batch is one raw row, kept as it is.
    select event_id from batch
    group by event_id
    having count(*) > 1

    union

    select event_id from stored

),

single_rows as (

    select
        batch.event_id,
        batch.user_id,
        batch.course_id,
        batch.session_id,
        batch.event_type,
        batch.event_metadata,
        batch.event_at,
        batch.raw_row_hash,
        cast(null as {{ hash_list_type() }}) as payload_hashes,
        cast(1 as bigint) as raw_row_count,
        batch.load_batch_id,
        'new_event' as payload_change,
        cast(null as bigint) as previous_load_batch_id,
        cast(null as bigint) as previous_exact_duplicate_row_count,
        cast(null as bigint) as previous_conflicting_payload_count,
        cast(null as bigint) as replaced_user_id,
        cast(null as bigint) as replaced_course_id,
        cast(null as string) as replaced_event_type,
        cast(null as timestamp) as replaced_event_at
    from batch
    {{ anti_join() }} compared_ids
        on batch.event_id = compared_ids.event_id

),

candidates as (

    -- each distinct payload of a compared id: the batch's, and the stored kept one, whose raw
    -- rows are counted already
    select
        batch.event_id,
        batch.raw_row_hash,
        any_value(batch.user_id) as user_id,
        any_value(batch.course_id) as course_id,
        any_value(batch.session_id) as session_id,
        any_value(batch.event_type) as event_type,
        any_value(batch.event_metadata) as event_metadata,
        any_value(batch.event_at) as event_at,
        count(*) as raw_row_count,
        max(batch.load_batch_id) as load_batch_id,
        false as is_stored
    from batch
    {{ semi_join() }} compared_ids
        on batch.event_id = compared_ids.event_id
    group by batch.event_id, batch.raw_row_hash

    union all

    select
        event_id,
        raw_row_hash,
        user_id,
        course_id,
        session_id,
        event_type,
        event_metadata,
        event_at,
        0 as raw_row_count,
        null as load_batch_id,
        true as is_stored
    from stored

),

kept as (

    select
        event_id,
        {{ least_by(
            [
                'raw_row_hash', 'user_id', 'course_id', 'session_id', 'event_type',
                'event_metadata', 'event_at', 'is_stored'
            ],
            ['event_at', 'session_id', 'event_metadata', 'raw_row_hash']
        ) }} as payload,
        sum(raw_row_count) as new_row_count,
        {{ list_of('raw_row_hash') }} filter (where not is_stored) as new_hashes,
        max(load_batch_id) as load_batch_id
    from candidates
    group by event_id

),

kept_payloads as (

    select
        kept.event_id,
        -- a struct unnests into its named fields
        {{ struct_fields('kept.payload') }},  -- noqa: AL03
        kept.new_row_count,
        kept.new_hashes,
        kept.load_batch_id
    from kept

),

compared_rows as (

    select
        kept.event_id,
        kept.user_id,
        kept.course_id,
        kept.session_id,
        kept.event_type,
        kept.event_metadata,
        kept.event_at,
        kept.raw_row_hash,
        {{ sorted_set_of(
            'coalesce(stored.payload_hashes, ' ~ list_of_one('stored.raw_row_hash') ~ ')',
            'kept.new_hashes'
        ) }} as payload_hashes,
        cast(coalesce(stored.raw_row_count, 0) + kept.new_row_count as bigint) as raw_row_count,
        kept.load_batch_id,
        case
            when stored.event_id is null then 'new_event'
            when kept.is_stored then 'same_payload'
            else 'new_payload'
        end as payload_change,
        stored.load_batch_id as previous_load_batch_id,
        -- the counts it replaced, for int_events__date_counts
        stored.exact_duplicate_row_count as previous_exact_duplicate_row_count,
        stored.conflicting_payload_count as previous_conflicting_payload_count,
        -- the payload this run replaced, when it did
        if(kept.is_stored, null, stored.user_id) as replaced_user_id,
        if(kept.is_stored, null, stored.course_id) as replaced_course_id,
        if(kept.is_stored, null, stored.event_type) as replaced_event_type,
        if(kept.is_stored, null, stored.event_at) as replaced_event_at
    from kept_payloads as kept
    left join stored
        on kept.event_id = stored.event_id

),

deduplicated as (

    -- the same columns in the same order
    select * from single_rows
    union all
    select * from compared_rows

),

final as (

    select
        event_id,
        user_id,
        course_id,
        session_id,
        event_type,
        event_metadata,
        event_at,
        raw_row_hash,
        -- one payload: no list to store (the common case)
        if({{ list_length('payload_hashes') }} = 1, null, payload_hashes) as payload_hashes,
        raw_row_count,
        cast(raw_row_count - coalesce({{ list_length('payload_hashes') }}, 1) as bigint)
            as exact_duplicate_row_count,
        cast(coalesce({{ list_length('payload_hashes') }}, 1) - 1 as bigint)
            as conflicting_payload_count,
        load_batch_id,
        payload_change,
        previous_load_batch_id,
        previous_exact_duplicate_row_count,
        previous_conflicting_payload_count,
        replaced_user_id,
        replaced_course_id,
        replaced_event_type,
        replaced_event_at
    from deduplicated

)

select * from final
