with

source as (

    select
        *,
        {{ raw_row_id() }} as raw_row_id
    from {{ source('raw', 'enrolments') }}

),

renamed as (

    select
        -- keys
        raw_row_id,
        enrolment_id,
        user_id,
        course_id,

        -- attributes
        {{ clean_code('status') }} as enrolment_status,
        coalesce({{ clean_code('status') }} = 'cancelled', false) as is_cancelled,

        -- timestamps
        enrolled_at,

        -- metadata: defects found on this row
        enrolled_at is null as is_enrolled_at_empty,
        {{ is_blank('status') }} as is_enrolment_status_empty,
        {{ is_code_variant('status', 'valid_enrolment_statuses') }} as is_enrolment_status_variant

    from source

)

select * from renamed
