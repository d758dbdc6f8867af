-- first_activity <= last_activity, and both are null exactly when the course has no active
-- learner.
select
    course_id,
    active_learners,
    first_activity,
    last_activity
from {{ ref('mart_course_engagement') }}
where
    first_activity > last_activity
    or (first_activity is null) <> (active_learners = 0)
    or (last_activity is null) <> (active_learners = 0)
