{#
    One row per course in the catalogue: its id and what the reports describe it by (title,
    category, level, publisher, creation date). The conformed course dimension every mart
    reads instead of the base model; the defect flags stay in base_raw__courses.
#}
with

courses as (

    select * from {{ ref('base_raw__courses') }}

),

final as (

    select
        course_id,
        course_title,
        category,
        level,
        publisher,
        course_created_date
    from courses

)

select * from final
