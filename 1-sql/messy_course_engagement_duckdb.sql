-- =====================================================================================
-- course_engagement_report.sql  (legacy, inherited from the old reporting box)
--
-- KEPT VERBATIM AS THE "BEFORE". Do not fix, reformat or lint this file: it is the
-- baseline the dbt mart (2-dbt_project, analytics.mart_course_engagement) is reconciled
-- against by `course-engagement reconcile`, and 1-sql/ANALYSIS.md cites its line numbers.
-- What is wrong with it, and where dbt fixes each thing, is written up in ANALYSIS.md.
-- =====================================================================================
-- v3 2021-03  added quiz/video counts (MK)
-- v4 2022-11  active users from events table for the exec deck (PL)
WITH usr AS (
    SELECT *
    FROM (
        SELECT
            u.id,
            u.id AS user_id,
            u.fullName,
            SPLIT_PART(u.fullName, ' ', 1) AS first_name,
            TRIM(SUBSTR(u.fullName, LENGTH(SPLIT_PART(u.fullName, ' ', 1)) + 1)) AS last_name,
            u.email,
            u.signupDate,
            u.state,
            u.isGovEmployee,
            u.updatedAt,
            u.deleted,
            (SELECT COUNT(*) FROM raw.enrolments e2 WHERE e2.user_id = u.id) AS num_enrolments,
            ROW_NUMBER() OVER (PARTITION BY u.id ORDER BY u.updatedAt DESC) AS rn
        FROM raw.users u
        WHERE u.deleted IS NULL OR u.deleted = FALSE   -- skip deleted accounts
    ) x
    WHERE rn = 1
)
SELECT
    c.course_id,
    c.title,
    c.title AS course_name,
    COUNT(DISTINCT usr.id) AS learners,
    COUNT(DISTINCT CASE WHEN ev.event_type IN ('video_start', 'video_complete', 'quiz_start', 'quiz_submit') THEN usr.id END) AS active_learners,
    COUNT(DISTINCT CASE WHEN ev.event_type LIKE 'video%' OR ev.event_type LIKE 'quiz%' THEN ev.user_id ELSE NULL END) AS active_users,
    SUM(CASE WHEN ev.event_type = 'quiz_submit' THEN 1 ELSE 0 END) AS quizzes,
    SUM(CASE WHEN ev.event_type = 'video_complete' THEN 1 ELSE 0 END) AS videos,
    COUNT(*) AS total_events,
    COUNT(DISTINCT ev.session_id) AS sessions,
    MIN(ev.event_timestamp) AS first_activity,
    MAX(ev.event_timestamp) AS last_activity,
    MIN(COALESCE(e.enrolled_at, CURRENT_TIMESTAMP)) AS first_enrolment,
    (SELECT COUNT(DISTINCT r.user_id) FROM raw.events r WHERE r.course_id = c.course_id AND r.event_type IN ('video_start', 'video_complete', 'quiz_start', 'quiz_submit')) AS active_users_all,
    STRING_AGG(DISTINCT CAST(usr.id AS VARCHAR), ',') AS learner_ids,
    STRING_AGG(DISTINCT usr.email, ',') AS learner_emails,
    ROUND(COUNT(DISTINCT CASE WHEN ev.event_type IN ('video_start', 'video_complete', 'quiz_start', 'quiz_submit') THEN usr.id END) / COUNT(DISTINCT usr.id), 2) AS engagement_rate
FROM usr
LEFT JOIN raw.enrolments e ON e.user_id = usr.id
LEFT JOIN raw.courses c ON c.course_id = e.course_id
LEFT JOIN raw.events ev ON ev.user_id = usr.id AND ev.course_id = c.course_id
WHERE (e.status IS NULL OR e.status != 'cancelled')
  AND (e.status != 'cancelled' OR e.status IS NULL)   -- cancelled enrolments don't count!!
GROUP BY 1, 2
ORDER BY learners DESC, 1
