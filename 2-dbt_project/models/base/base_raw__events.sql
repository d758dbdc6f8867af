with

source as (

    select
        *,
        {{ raw_row_id() }} as raw_row_id
    from {{ source('raw', 'events') }}

),

renamed as (

    select
        -- keys
        raw_row_id,
        id as event_id,
        user_id,
        course_id,
        {{ clean_text('session_id') }} as session_id,

        -- attributes
        {{ clean_code('event_type') }} as event_type,
        {{ clean_text('metadata') }} as event_metadata,

        -- timestamps
        event_timestamp as event_at,

        -- metadata: the load batch the row came in (incremental models take new batches),
        -- defects found on this row, and a fingerprint of the row exactly as
        -- delivered (every raw column), which tells exact duplicates from re-used ids. A
        -- 64-bit hash is enough: it is only ever compared between rows of the same event id.
        load_batch_id,
        {{ is_code_variant('event_type', 'valid_event_types') }} as is_event_type_variant,
        {{ row_hash([
            'id', 'user_id', 'course_id', 'event_type', 'event_timestamp', 'session_id', 'metadata'
        ]) }} as raw_row_hash

    from source

)

select * from renamed
