{#
    One row per event id (from int_events__deduplicated) with the single reason it is not
    counted (exclusion_reason, null when counted; every reason is a row of the seed
    exclusion_reasons, in the order written there): the event's own reasons first, then its
    user x course pair's, decided once per pair in int_user_course__activity. A
    counted event is therefore an event of a learner of its course as of as_of_date (see the
    learner doc block).

    A view, for looking up single events (the notebook, an investigation, the full-history
    checks): no model reads it, so a daily run never evaluates it.
#}
{{ config(materialized='view') }}

with

events as (

    select * from {{ ref('int_events__deduplicated') }}

),

users as (

    select * from {{ ref('dim_users') }}
    where is_current

),

courses as (

    select * from {{ ref('base_raw__courses') }}

),

pairs as (

    select * from {{ ref('int_user_course__activity') }}

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
        events.load_batch_id,
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
        coalesce(pairs.has_enrolment, false) as has_enrolment,
        coalesce(pairs.has_not_cancelled_enrolment, false) as has_not_cancelled_enrolment,
        pairs.exclusion_reason as pair_exclusion_reason,
        coalesce(
            events.event_at < pairs.first_not_cancelled_enrolled_at, false
        ) as is_before_enrolment
    from events
    left join users
        on events.user_id = users.user_id
    left join courses
        on events.course_id = courses.course_id
    left join pairs
        on
            events.user_id = pairs.user_id
            and events.course_id = pairs.course_id

),

final as (

    select
        event_id,
        user_id,
        course_id,
        session_id,
        event_type,
        event_metadata,
        event_at,
        raw_row_count,
        exact_duplicate_row_count,
        conflicting_payload_count,
        load_batch_id,
        is_unknown_type,
        is_empty_timestamp,
        is_future,
        is_missing_user_or_course,
        is_user_known,
        is_course_known,
        is_unknown_user,
        is_unknown_course,
        is_user_deleted,
        is_user_flagged_deleted,
        has_enrolment,
        has_not_cancelled_enrolment,
        is_before_enrolment,
        case
            when is_empty_timestamp then 'empty_timestamp'
            when is_future then 'future'
            when is_missing_user_or_course then 'missing_user_or_course'
            else pair_exclusion_reason
        end as exclusion_reason
    from joined

)

select
    *,
    exclusion_reason is null as is_counted
from final
