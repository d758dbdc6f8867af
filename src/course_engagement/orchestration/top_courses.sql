-- The terminal summary after `course-engagement run`: the courses most learners were active
-- in over the 30 days to the date, at most $top_n.
select
    course_id,
    course_title,
    learners,
    active_learners,
    active_learners_30d,
    round(engagement_rate, 3) as engagement_rate
from analytics.mart_course_engagement
order by active_learners_30d desc, active_learners desc, course_id asc
limit $top_n
