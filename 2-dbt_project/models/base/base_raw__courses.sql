with

source as (

    select
        *,
        {{ raw_row_id() }} as raw_row_id
    from {{ source('raw', 'courses') }}

),

renamed as (

    select
        -- keys
        raw_row_id,
        course_id,

        -- attributes
        {{ clean_text('title') }} as course_title,
        {{ canonical_spelling('category_name', 'course_categories') }} as category,
        {{ clean_code('level') }} as level,
        {{ clean_text('publisher') }} as publisher,

        -- timestamps
        course_created_at as course_created_date,

        -- metadata: defects found on this row
        {{ is_blank('category_name') }} as is_category_empty,
        {{ is_code_variant('category_name', 'course_categories') }} as is_category_variant,
        {{ is_blank('level') }} as is_level_empty,
        {{ is_code_variant('level', 'valid_course_levels') }} as is_level_variant

    from source

)

select * from renamed
