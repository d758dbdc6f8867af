insert or replace into {history} (
    report_date,
    courses,
    learners,
    active_learners,
    active_learners_30d,
    total_quizzes_completed,
    total_videos_completed,
    report_file,
    report_sha256,
    recorded_at,
    counted_events
)
values (
    $report_date,
    $courses,
    $learners,
    $active_learners,
    $active_learners_30d,
    $total_quizzes_completed,
    $total_videos_completed,
    $report_file,
    $report_sha256,
    $recorded_at,
    $counted_events
)
