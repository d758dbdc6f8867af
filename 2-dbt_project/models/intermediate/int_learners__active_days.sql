{#
    One row per user x date (UTC) on which the user has at least one counted event, in any
    course, up to the end of as_of_date: the learner pairs of int_user_course__activity
    (is_learner) joined to their days in int_user_course__daily_activity, cut at as_of_date.
    Who is a learner is decided there, once; this model only drops the course. Rebuilt every
    run from the compact daily model (one row per user x course x day), never from events.
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

    select distinct
        daily_activity.user_id,
        daily_activity.activity_date
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
