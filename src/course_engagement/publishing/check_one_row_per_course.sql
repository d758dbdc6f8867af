-- Offending courses: in the catalogue {catalogue} but not the mart {mart}, in the mart but not
-- the catalogue, or in the mart more than once.
with catalogue as (
    select distinct course_id from {catalogue}
),

mart as (
    select
        course_id,
        count(*) as n
    from {mart}
    group by course_id
),

problems as (
    select coalesce(catalogue.course_id, mart.course_id) as course_id
    from catalogue
    full outer join mart
        on catalogue.course_id = mart.course_id
    where mart.course_id is null or catalogue.course_id is null or mart.n <> 1
)

select
    count(*) as offending,
    string_agg(course_id::varchar, ', ' order by course_id) as examples
from problems
