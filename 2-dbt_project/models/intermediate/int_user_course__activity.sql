{#
    One row per user x course pair that holds an enrolment or has dated activity, as of
    as_of_date: whether the user is a learner of the course as of that date (see the learner
    doc block: a not-cancelled enrolment made before the end of as_of_date, or without a time),
    and if not, the one reason their events are not counted; and their activity up to the end
    of as_of_date, summarised. Learners with no counted event are kept (zero counts, null
    timestamps): the mart needs them as the denominator.

    The reasons unknown_user .. on_cancelled_enrolment describe the pair whatever the date (its
    enrolments of any time); the last, enrolled_after_as_of_date, is the one as_of_date moves:
    a pair that is none of those and still not a learner holds its not-cancelled enrolments
    only after as_of_date, so a report of a later date counts its events.

    Every rule that depends on as_of_date, users or enrolments is applied here, per pair, never
    per event: a pair's events up to as_of_date all share its reason, so the counts per reason
    are sums of the compact daily model (an event's activity date is on or before as_of_date
    exactly when the event is before the end of it). A table rebuilt every run from one row
    per pair: the pair's totals of all its days (int_user_course__activity_totals, kept
    incrementally) less its days after as_of_date, read from the daily model by a literal
    date (few: as of the newest date, only the future-dated ones); only the pairs with such
    days look up their other days, for their last event up to as_of_date.
#}
with

users as (

    select * from {{ ref('dim_users') }}
    where is_current

),

courses as (

    select * from {{ ref('dim_courses') }}

),

enrolments as (

    select * from {{ ref('base_raw__enrolments') }}

),

valid_enrolments as (

    select * from {{ ref('fct_enrolments') }}

),

activity_totals as (

    select * from {{ ref('int_user_course__activity_totals') }}

),

-- the daily model, read twice, each with its own literal date filter (a CTE read twice is
-- materialized whole, before the filters of its readers)
days_after_as_of as (

    select * from {{ ref('int_user_course__daily_activity') }}
    where activity_date > {{ as_of_date() }}

),

days_up_to_as_of as (

    select * from {{ ref('int_user_course__daily_activity') }}
    where activity_date <= {{ as_of_date() }}

),

enrolment_pairs as (

    -- every enrolment of a pair, whatever its status
    select
        user_id,
        course_id,
        count(*) as enrolment_count,
        count(*) filter (where not is_cancelled) as not_cancelled_enrolment_count,
        min(enrolled_at) filter (where not is_cancelled) as first_not_cancelled_enrolled_at,
        -- made after as_of_date: invisible to the learner rule as of that date
        count(*) filter (
            where not is_cancelled and enrolled_at >= {{ as_of_end_at() }}
        ) as later_not_cancelled_enrolment_count
    from enrolments
    where user_id is not null and course_id is not null
    group by user_id, course_id

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

activity_after_as_of as (

    select
        user_id,
        course_id,
        sum(event_count) as event_count,
        sum({{ event_type_count('quiz_completion_event_types') }}) as quizzes_completed,
        sum({{ event_type_count('video_completion_event_types') }}) as videos_completed,
        sum(unknown_type_count) as unknown_type_count
    from days_after_as_of
    group by user_id, course_id

),

last_event_until_as_of as (

    -- a pair with days after as_of_date: its last event up to it is on an earlier day
    select
        days_up_to_as_of.user_id,
        days_up_to_as_of.course_id,
        max(days_up_to_as_of.last_event_at) as last_event_at
    from days_up_to_as_of
    semi join activity_after_as_of
        on
            days_up_to_as_of.user_id = activity_after_as_of.user_id
            and days_up_to_as_of.course_id = activity_after_as_of.course_id
    group by days_up_to_as_of.user_id, days_up_to_as_of.course_id

),

activity_until_as_of as (

    -- all of the pair's days, less those after as_of_date
    select
        activity_totals.user_id,
        activity_totals.course_id,
        activity_totals.event_count - coalesce(activity_after_as_of.event_count, 0)
            as event_count,
        coalesce(activity_after_as_of.event_count, 0) as future_event_count,
        {{ event_type_count('quiz_completion_event_types') }}
        - coalesce(activity_after_as_of.quizzes_completed, 0) as quizzes_completed,
        {{ event_type_count('video_completion_event_types') }}
        - coalesce(activity_after_as_of.videos_completed, 0) as videos_completed,
        activity_totals.unknown_type_count
        - coalesce(activity_after_as_of.unknown_type_count, 0) as unknown_type_count,
        -- the first event of all days is the first up to as_of_date, if it is on or before it
        if(
            activity_totals.first_event_at < {{ as_of_end_at() }},
            activity_totals.first_event_at,
            null
        ) as first_event_at,
        if(
            activity_after_as_of.user_id is null,
            activity_totals.last_event_at,
            last_event_until_as_of.last_event_at
        ) as last_event_at
    from activity_totals
    left join activity_after_as_of
        on
            activity_totals.user_id = activity_after_as_of.user_id
            and activity_totals.course_id = activity_after_as_of.course_id
    left join last_event_until_as_of
        on
            activity_totals.user_id = last_event_until_as_of.user_id
            and activity_totals.course_id = last_event_until_as_of.course_id

),

pairs as (

    select
        user_id,
        course_id
    from enrolment_pairs

    union

    select
        user_id,
        course_id
    from activity_until_as_of

),

classified as (

    select
        pairs.user_id,
        pairs.course_id,
        users.user_id is not null as is_user_known,
        courses.course_id is not null as is_course_known,
        coalesce(users.is_deleted, false) as is_user_deleted,
        coalesce(users.is_flagged_deleted, false) as is_user_flagged_deleted,
        coalesce(enrolment_pairs.enrolment_count, 0) > 0 as has_enrolment,
        coalesce(enrolment_pairs.not_cancelled_enrolment_count, 0) > 0
            as has_not_cancelled_enrolment,
        enrolment_pairs.first_not_cancelled_enrolled_at,
        coalesce(enrolment_pairs.later_not_cancelled_enrolment_count, 0) > 0
            as has_later_not_cancelled_enrolment,
        learners.user_id is not null as is_learner,
        -- the checks of int_events__flagged after the event's own (timestamp, user and
        -- course present, not future), in the same order: the first that applies wins
        case
            when users.user_id is null then 'unknown_user'
            when courses.course_id is null then 'unknown_course'
            when coalesce(enrolment_pairs.enrolment_count, 0) = 0 then 'without_enrolment'
            when users.is_deleted then 'deleted_user'
            when enrolment_pairs.not_cancelled_enrolment_count = 0 then 'on_cancelled_enrolment'
            when
                learners.user_id is null
                and enrolment_pairs.later_not_cancelled_enrolment_count > 0
                then 'enrolled_after_as_of_date'
        end as exclusion_reason,
        cast(coalesce(learners.valid_enrolment_count, 0) as bigint) as valid_enrolment_count,
        learners.first_enrolled_at,
        cast(coalesce(activity_until_as_of.event_count, 0) as bigint) as event_count,
        cast(coalesce(activity_until_as_of.future_event_count, 0) as bigint)
            as future_event_count,
        cast(coalesce(activity_until_as_of.unknown_type_count, 0) as bigint)
            as unknown_type_count,
        activity_until_as_of.quizzes_completed,
        activity_until_as_of.videos_completed,
        activity_until_as_of.first_event_at,
        activity_until_as_of.last_event_at
    from pairs
    left join users
        on pairs.user_id = users.user_id
    left join courses
        on pairs.course_id = courses.course_id
    left join enrolment_pairs
        on
            pairs.user_id = enrolment_pairs.user_id
            and pairs.course_id = enrolment_pairs.course_id
    left join learners
        on
            pairs.user_id = learners.user_id
            and pairs.course_id = learners.course_id
    left join activity_until_as_of
        on
            pairs.user_id = activity_until_as_of.user_id
            and pairs.course_id = activity_until_as_of.course_id

),

final as (

    select
        user_id,
        course_id,
        is_learner,
        exclusion_reason,
        is_user_known,
        is_course_known,
        is_user_deleted,
        is_user_flagged_deleted,
        has_enrolment,
        has_not_cancelled_enrolment,
        first_not_cancelled_enrolled_at,
        has_later_not_cancelled_enrolment,
        valid_enrolment_count,
        first_enrolled_at,
        event_count,
        future_event_count,
        unknown_type_count,
        -- a learner's events up to as_of_date are its counted events
        if(is_learner, event_count, 0) as counted_event_count,
        cast(if(is_learner, coalesce(quizzes_completed, 0), 0) as bigint) as quizzes_completed,
        cast(if(is_learner, coalesce(videos_completed, 0), 0) as bigint) as videos_completed,
        if(is_learner, first_event_at, null) as first_activity_at,
        if(is_learner, last_event_at, null) as last_activity_at
    from classified

)

select * from final
