{#
    One row per learner x course x date (UTC) with at least one counted event, up to
    as_of_date: the days of int_user_course__daily_activity whose user x course pair is a
    learner pair of int_user_course__activity (who is a learner is decided there, once), cut
    at as_of_date, with the day's counted events, quizzes and videos (the completion rules:
    vars quiz_completion_event_types, video_completion_event_types).

    A table rebuilt every run from the compact daily model (one row per user x course x day),
    never from events, so a daily run costs learner-days, not events. The time-series marts
    read it; a user x day count is a distinct over it.
#}
with

activity as (

    select * from {{ ref('int_user_course__activity') }}

),

daily_activity as (

    select * from {{ ref('int_user_course__daily_activity') }}

),

learner_pairs as (

    select
        user_id,
        course_id
    from activity
    where is_learner

),

final as (

    select
        daily_activity.user_id,
        daily_activity.course_id,
        daily_activity.activity_date,
        daily_activity.event_count,
        cast(coalesce({{ event_type_count('quiz_completion_event_types') }}, 0) as bigint)
            as quizzes_completed,
        cast(coalesce({{ event_type_count('video_completion_event_types') }}, 0) as bigint)
            as videos_completed
    from daily_activity
    semi join learner_pairs
        on
            daily_activity.user_id = learner_pairs.user_id
            and daily_activity.course_id = learner_pairs.course_id
    where
        daily_activity.activity_date <= {{ as_of_date() }}
        and daily_activity.event_count > 0

)

select * from final
