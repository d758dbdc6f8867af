-- Offending courses: more learners active in 30 days than active, or active than learners.
select
    count(*) as offending,
    string_agg(course_id::varchar, ', ' order by course_id) as examples
from {mart}
where not (active_learners_30d <= active_learners and active_learners <= learners)
