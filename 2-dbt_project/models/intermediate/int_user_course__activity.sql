{#
    One row per learner of a course (user x course pair with at least one valid enrolment),
    with that learner's counted events in the course summarised. Learners with no counted
    event are kept (zero counts, null timestamps): the mart needs them as the denominator.
#}
with

valid_enrolments as (

    select * from {{ ref('int_enrolments__valid') }}

),

events as (

    select * from {{ ref('int_events__flagged') }}

),

learners as (

    select
        user_id,
        course_id,
        count(*) as valid_enrolment_count,
        min(enrolled_at) as first_enrolled_at
    from valid_enrolments
    group by user_id, course_id

),

counted_events as (

    select
        user_id,
        course_id,
        count(*) as counted_event_count,
        count(*) filter (
            where event_type in {{ codes_sql('quiz_completion_event_types') }}
        ) as quizzes_completed,
        count(*) filter (
            where event_type in {{ codes_sql('video_completion_event_types') }}
        ) as videos_completed,
        count(*) filter (where is_before_enrolment) as before_enrolment_event_count,
        min(event_at) as first_activity_at,
        max(event_at) as last_activity_at
    from events
    where is_counted
    group by user_id, course_id

),

activity as (

    select
        learners.user_id,
        learners.course_id,
        learners.valid_enrolment_count,
        learners.first_enrolled_at,
        coalesce(counted_events.counted_event_count, 0) as counted_event_count,
        coalesce(counted_events.quizzes_completed, 0) as quizzes_completed,
        coalesce(counted_events.videos_completed, 0) as videos_completed,
        coalesce(counted_events.before_enrolment_event_count, 0)
            as before_enrolment_event_count,
        counted_events.first_activity_at,
        counted_events.last_activity_at
    from learners
    left join counted_events
        on
            learners.user_id = counted_events.user_id
            and learners.course_id = counted_events.course_id

)

select * from activity
