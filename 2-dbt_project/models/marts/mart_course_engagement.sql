{#
    One row per course in the catalogue, as of the as_of_date var. Built from the learners of
    the compact user x course activity model - itself the incremental user x course x day model
    cut at as_of_date - never by rescanning events.
#}
with

courses as (

    select * from {{ ref('dim_courses') }}

),

activity as (

    select * from {{ ref('int_user_course__activity') }}

),

course_activity as (

    select
        course_id,
        count(*) as learners,
        count(*) filter (where counted_event_count > 0) as active_learners,
        count(*) filter (
            where last_activity_at >= {{ activity_window_start_at() }}
        ) as active_learners_30d,
        sum(quizzes_completed) as total_quizzes_completed,
        sum(videos_completed) as total_videos_completed,
        min(first_activity_at) as first_activity,
        max(last_activity_at) as last_activity
    from activity
    where is_learner
    group by course_id

),

final as (

    select
        cast(courses.course_id as bigint) as course_id,
        cast(courses.course_title as string) as course_title,
        cast(courses.category as string) as category,
        cast(courses.level as string) as level,
        cast(courses.publisher as string) as publisher,
        cast(coalesce(course_activity.learners, 0) as bigint) as learners,
        cast(coalesce(course_activity.active_learners, 0) as bigint) as active_learners,
        cast(coalesce(course_activity.active_learners_30d, 0) as bigint) as active_learners_30d,
        cast(coalesce(course_activity.total_quizzes_completed, 0) as bigint)
            as total_quizzes_completed,
        cast(coalesce(course_activity.total_videos_completed, 0) as bigint)
            as total_videos_completed,
        cast(course_activity.first_activity as timestamp) as first_activity,
        cast(course_activity.last_activity as timestamp) as last_activity,
        cast(
            course_activity.active_learners / nullif(course_activity.learners, 0) as double
        ) as engagement_rate,
        {{ as_of_date() }} as as_of_date
    from courses
    left join course_activity
        on courses.course_id = course_activity.course_id

)

select * from final
