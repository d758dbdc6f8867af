-- active_learners_30d <= active_learners <= learners on every course.
select
    course_id,
    learners,
    active_learners,
    active_learners_30d
from {{ ref('mart_course_engagement') }}
where not (active_learners_30d <= active_learners and active_learners <= learners)
