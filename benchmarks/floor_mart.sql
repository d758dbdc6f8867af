-- The floor for the mart benchmark: analytics.mart_course_engagement computed in ONE DuckDB
-- statement straight from the raw tables, with nothing materialised on the way. It is what a
-- hand-tuned query costs; dbt's marginal compute is compared against it.
--
-- Honest by construction: benchmarks/run.py checks that its result equals the dbt mart on the
-- same data, row for row and column for column, and fails the run if it does not. Every rule
-- is the dbt project's (2-dbt_project/models/_metrics.md):
--   * learner: a not-cancelled enrolment (a blank status counts as not cancelled) made before
--     the end of as_of_date (or without a time) of a user whose latest version is not deleted
--     (flag, or state 'deleted'), in a catalogue course;
--   * counted event: one row per event id (the payload with the earliest timestamp, nulls
--     last, then session id, metadata and the raw row hash), timestamped before the end of
--     as_of_date, by a learner of its course;
--   * the constants mirror the vars in 2-dbt_project/dbt_project.yml (30-day window,
--     quiz_submit / video_complete, the catalogue's category spellings).
--
-- Run it by hand with:
--   SET VARIABLE as_of_date = DATE '2026-10-31';
--   .read benchmarks/floor_mart.sql
with

current_users as (

    -- latest version per user id, ordered exactly as dim_users
    select
        user_id,
        is_deleted
    from (
        select
            id as user_id,
            coalesce(deleted, false)
            or coalesce(
                lower(trim(state, chr(32) || chr(9) || chr(10) || chr(13))) = 'deleted', false
            ) as is_deleted,
            "updatedAt" as updated_at,
            lower(nullif(trim(state, chr(32) || chr(9) || chr(10) || chr(13)), '')) as user_state,
            nullif(trim(email, chr(32) || chr(9) || chr(10) || chr(13)), '') as email,
            nullif(trim("fullName", chr(32) || chr(9) || chr(10) || chr(13)), '') as full_name,
            "signupDate" as signed_up_date,
            "isGovEmployee" as is_gov_employee
        from raw.users
    )
    qualify row_number() over (
        partition by user_id
        order by
            updated_at desc nulls last,
            is_deleted desc,
            user_state asc nulls last,
            email asc nulls last,
            full_name asc nulls last,
            signed_up_date asc nulls last,
            is_gov_employee asc nulls last
    ) = 1

),

learners as (

    select distinct
        enrolments.user_id,
        enrolments.course_id
    from raw.enrolments as enrolments
    inner join current_users
        on enrolments.user_id = current_users.user_id
    where
        not current_users.is_deleted
        and not coalesce(
            lower(trim(enrolments.status, chr(32) || chr(9) || chr(10) || chr(13)))
            = 'cancelled',
            false
        )
        and enrolments.course_id in (select course_id from raw.courses)
        and coalesce(
            enrolments.enrolled_at < cast(getvariable('as_of_date') as date) + interval 1 day, true
        )

),

duplicated_ids as (

    -- the few event ids delivered more than once; every other id is its own payload
    select id
    from raw.events
    group by id
    having count(*) > 1

),

events as (

    select
        user_id,
        course_id,
        lower(nullif(trim(event_type, chr(32) || chr(9) || chr(10) || chr(13)), ''))
            as event_type,
        event_timestamp as event_at
    from raw.events
    anti join duplicated_ids
        on raw.events.id is not distinct from duplicated_ids.id

    union all

    -- one payload per duplicated id: the sort key orders like int_events__deduplicated,
    -- "event_at, session_id, metadata (each asc nulls last), then the raw row hash"
    select
        arg_min(user_id, payload_order) as user_id,
        arg_min(course_id, payload_order) as course_id,
        arg_min(event_type, payload_order) as event_type,
        arg_min(event_timestamp, payload_order) as event_at
    from (
        select
            id,
            user_id,
            course_id,
            lower(nullif(trim(event_type, chr(32) || chr(9) || chr(10) || chr(13)), ''))
                as event_type,
            event_timestamp,
            create_sort_key(
                event_timestamp, 'asc nulls last',
                nullif(trim(session_id, chr(32) || chr(9) || chr(10) || chr(13)), ''),
                'asc nulls last',
                nullif(trim(metadata, chr(32) || chr(9) || chr(10) || chr(13)), ''),
                'asc nulls last',
                hash(id, user_id, course_id, event_type, event_timestamp, session_id, metadata),
                'asc nulls last'
            ) as payload_order
        from raw.events
        semi join duplicated_ids
            on raw.events.id is not distinct from duplicated_ids.id
    )
    group by id

),

pair_activity as (

    -- every (user, course) pair's events before the end of as_of_date; learners pick theirs
    select
        user_id,
        course_id,
        count(*) as counted_event_count,
        count(*) filter (where event_type = 'quiz_submit') as quizzes_completed,
        count(*) filter (where event_type = 'video_complete') as videos_completed,
        min(event_at) as first_activity_at,
        max(event_at) as last_activity_at
    from events
    where event_at < cast(getvariable('as_of_date') as date) + interval 1 day
    group by user_id, course_id

),

course_activity as (

    select
        learners.course_id,
        count(*) as learners,
        count(pair_activity.counted_event_count) as active_learners,
        count(*) filter (
            where pair_activity.last_activity_at
            >= cast(getvariable('as_of_date') as date) - interval 29 day
        ) as active_learners_30d,
        sum(pair_activity.quizzes_completed) as total_quizzes_completed,
        sum(pair_activity.videos_completed) as total_videos_completed,
        min(pair_activity.first_activity_at) as first_activity,
        max(pair_activity.last_activity_at) as last_activity
    from learners
    left join pair_activity
        on
            learners.user_id = pair_activity.user_id
            and learners.course_id = pair_activity.course_id
    group by learners.course_id

),

catalogue as (

    select
        course_id,
        nullif(trim(title, chr(32) || chr(9) || chr(10) || chr(13)), '') as course_title,
        nullif(trim(category_name, chr(32) || chr(9) || chr(10) || chr(13)), '') as category,
        lower(nullif(trim(level, chr(32) || chr(9) || chr(10) || chr(13)), '')) as level,
        nullif(trim(publisher, chr(32) || chr(9) || chr(10) || chr(13)), '') as publisher
    from raw.courses

)

select
    cast(catalogue.course_id as bigint) as course_id,
    catalogue.course_title,
    case lower(catalogue.category)
        when 'data science' then 'Data Science'
        when 'cloud computing' then 'Cloud Computing'
        when 'leadership' then 'Leadership'
        when 'cyber security' then 'Cyber Security'
        when 'project management' then 'Project Management'
        when 'design' then 'Design'
        when 'policy' then 'Policy'
        when 'digital skills' then 'Digital Skills'
        else catalogue.category
    end as category,
    catalogue.level,
    catalogue.publisher,
    coalesce(course_activity.learners, 0) as learners,
    coalesce(course_activity.active_learners, 0) as active_learners,
    coalesce(course_activity.active_learners_30d, 0) as active_learners_30d,
    cast(coalesce(course_activity.total_quizzes_completed, 0) as bigint)
        as total_quizzes_completed,
    cast(coalesce(course_activity.total_videos_completed, 0) as bigint)
        as total_videos_completed,
    course_activity.first_activity,
    course_activity.last_activity,
    cast(course_activity.active_learners / nullif(course_activity.learners, 0) as double)
        as engagement_rate,
    cast(getvariable('as_of_date') as date) as as_of_date
from catalogue
left join course_activity
    on catalogue.course_id = course_activity.course_id
