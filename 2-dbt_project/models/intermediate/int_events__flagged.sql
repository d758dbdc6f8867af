{#
    One row per event id (from int_events__deduplicated), flagged against the valid event
    types, users, the catalogue, enrolments and as_of_date, with the single reason it is not
    counted (exclusion_reason, null when counted). All of these can change without the events
    changing, so this is a table rebuilt every run, downstream of the incremental models. The
    reasons are checked in this order and the first that applies wins: empty_timestamp,
    future, missing_user_or_course, unknown_user, unknown_course, without_enrolment,
    deleted_user, on_cancelled_enrolment. A counted event is therefore an event of a learner
    of its course (see the learner doc block).
#}
with

events as (

    select * from {{ ref('int_events__deduplicated') }}

),

users as (

    select * from {{ ref('int_users__current') }}

),

courses as (

    select * from {{ ref('base_raw__courses') }}

),

enrolments as (

    select * from {{ ref('base_raw__enrolments') }}

),

user_course_enrolments as (

    -- every enrolment of a pair, whatever its status
    select
        user_id,
        course_id,
        count(*) as enrolment_count,
        count(*) filter (where not is_cancelled) as not_cancelled_enrolment_count,
        min(enrolled_at) filter (where not is_cancelled) as first_not_cancelled_enrolled_at
    from enrolments
    group by user_id, course_id

),

joined as (

    select
        events.event_id,
        events.user_id,
        events.course_id,
        events.session_id,
        events.event_type,
        events.event_metadata,
        events.event_at,
        events.raw_row_count,
        events.exact_duplicate_row_count,
        events.conflicting_payload_count,
        events.event_type is null
        or events.event_type not in {{ codes_sql('valid_event_types') }} as is_unknown_type,
        events.event_at is null as is_empty_timestamp,
        coalesce(events.event_at >= {{ as_of_end_at() }}, false) as is_future,
        events.user_id is null or events.course_id is null as is_missing_user_or_course,
        users.user_id is not null as is_user_known,
        courses.course_id is not null as is_course_known,
        events.user_id is not null and users.user_id is null as is_unknown_user,
        events.course_id is not null and courses.course_id is null as is_unknown_course,
        coalesce(users.is_deleted, false) as is_user_deleted,
        coalesce(users.is_flagged_deleted, false) as is_user_flagged_deleted,
        coalesce(user_course_enrolments.enrolment_count, 0) > 0 as has_enrolment,
        coalesce(user_course_enrolments.not_cancelled_enrolment_count, 0) > 0
            as has_not_cancelled_enrolment,
        coalesce(
            events.event_at < user_course_enrolments.first_not_cancelled_enrolled_at,
            false
        ) as is_before_enrolment
    from events
    left join users
        on events.user_id = users.user_id
    left join courses
        on events.course_id = courses.course_id
    left join user_course_enrolments
        on
            events.user_id = user_course_enrolments.user_id
            and events.course_id = user_course_enrolments.course_id

),

classified as (

    select
        *,
        case
            when is_empty_timestamp then 'empty_timestamp'
            when is_future then 'future'
            when is_missing_user_or_course then 'missing_user_or_course'
            when is_unknown_user then 'unknown_user'
            when is_unknown_course then 'unknown_course'
            when not has_enrolment then 'without_enrolment'
            when is_user_deleted then 'deleted_user'
            when not has_not_cancelled_enrolment then 'on_cancelled_enrolment'
        end as exclusion_reason
    from joined

),

final as (

    select
        *,
        exclusion_reason is null as is_counted
    from classified

)

select * from final
