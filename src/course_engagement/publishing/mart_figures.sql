-- The published mart's key figures, compared with the previous report's by the gate.
select
    max(as_of_date) as report_date,
    count(*) as courses,
    coalesce(sum(learners), 0) as learners,
    coalesce(sum(active_learners), 0) as active_learners,
    coalesce(sum(active_learners_30d), 0) as active_learners_30d,
    coalesce(sum(total_quizzes_completed), 0) as total_quizzes_completed,
    coalesce(sum(total_videos_completed), 0) as total_videos_completed,
    (
        select coalesce(sum(reconciliation.event_rows), 0)
        from {reconciliation} as reconciliation
        where reconciliation.reason = 'counted'
    ) as counted_events
from {mart}
