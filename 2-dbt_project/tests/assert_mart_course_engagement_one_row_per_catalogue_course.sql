-- The mart has exactly one row per course in the catalogue: no course missing, none extra,
-- none twice. Returns the offending course ids.
with

catalogue as (

    select distinct course_id from {{ ref('base_raw__courses') }}

),

mart as (

    select
        course_id,
        count(*) as mart_rows
    from {{ ref('mart_course_engagement') }}
    group by course_id

),

compared as (

    select
        coalesce(catalogue.course_id, mart.course_id) as course_id,
        catalogue.course_id is not null as is_in_catalogue,
        coalesce(mart.mart_rows, 0) as mart_rows
    from catalogue
    full outer join mart
        on catalogue.course_id = mart.course_id

)

select * from compared
where not is_in_catalogue or mart_rows <> 1
