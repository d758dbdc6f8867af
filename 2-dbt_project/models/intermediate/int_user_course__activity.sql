{#
    One row per learner of a course (user x course pair with at least one valid enrolment),
    with that learner's counted events in the course, as of as_of_date, summarised. Learners
    with no counted event are kept (zero counts, null timestamps): the mart needs them as the
    denominator.

    Built from the compact daily model, never from events: a learner's events up to the end of
    as_of_date are exactly its counted events (see the counted_event doc), and an event's
    activity date is on or before as_of_date exactly when the event is before the end of it.
    A table, rebuilt every run, because it depends on as_of_date and on today's users and
    enrolments; it reads one row per user x course x day, not one per event.
#}
with

valid_enrolments as (

    select * from {{ ref('int_enrolments__valid') }}

),

daily_activity as (

    select * from {{ ref('int_user_course__daily_activity') }}

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

activity_until_as_of as (

    select
        user_id,
        course_id,
        sum(event_count) as event_count,
        sum({{ event_type_count('quiz_completion_event_types') }}) as quizzes_completed,
        sum({{ event_type_count('video_completion_event_types') }}) as videos_completed,
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at
    from daily_activity
    where activity_date <= {{ as_of_date() }}
    group by user_id, course_id

),

activity as (

    select
        learners.user_id,
        learners.course_id,
        learners.valid_enrolment_count,
        learners.first_enrolled_at,
        cast(coalesce(activity_until_as_of.event_count, 0) as bigint) as counted_event_count,
        cast(coalesce(activity_until_as_of.quizzes_completed, 0) as bigint) as quizzes_completed,
        cast(coalesce(activity_until_as_of.videos_completed, 0) as bigint) as videos_completed,
        activity_until_as_of.first_event_at as first_activity_at,
        activity_until_as_of.last_event_at as last_activity_at
    from learners
    left join activity_until_as_of
        on
            learners.user_id = activity_until_as_of.user_id
            and learners.course_id = activity_until_as_of.course_id

)

select * from activity
