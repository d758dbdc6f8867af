-- The legacy query's numbers, rebuilt with each of its flaws switchable (legacy/flaws.py).
--
-- Every flaw is a DuckDB variable, true while the flaw is present; compare.py sets them and
-- removes the flaws one at a time in the order of FLAWS (a suffix of FLAWS is present). With
-- every flaw present this computes what 1-sql/ computes; with none, what the mart does.
-- Only the flaws are written here: what the mart does instead is read from the mart's own
-- models - the latest user version and who is deleted (dim_users, current version), a cancelled
-- status (base_raw__enrolments), who is a learner as of the date (int_user_course__activity),
-- identical rows and the payload kept for an event id (base_raw__events,
-- int_events__deduplicated), the normalised event type (base_raw__events).
-- Variables besides the flaws: as_of_end (the first instant after as_of_date) and
-- legacy_active_types (the legacy query's "active" event types).
-- One row per course (plus a row with no course while emits_null_course_row is present), with
-- the metric values and the evidence the attribution quotes.

with

live_users as (

    -- legacy: drop the deleted rows, then take the latest of the rest (a tie: any)
    select legacy_versions.user_id
    from (
        select
            id as user_id,
            row_number() over (partition by id order by "updatedAt" desc) as version_rank
        from raw.users
        where deleted is null or not deleted
    ) as legacy_versions
    where getvariable('resurrects_deleted_users') and legacy_versions.version_rank = 1

    union all

    -- the mart's latest version; while ignores_deleted_state is present, deleted by flag only
    select current_users.user_id
    from analytics.dim_users as current_users
    where
        current_users.is_current
        and not getvariable('resurrects_deleted_users')
        and not current_users.is_flagged_deleted
        and (getvariable('ignores_deleted_state') or not current_users.is_deleted)

),

enrolment_rows as (

    select
        enrolments.user_id,
        enrolments.course_id
    from analytics.base_raw__enrolments as enrolments
    inner join raw.enrolments as raw_rows
        on enrolments.raw_row_id = raw_rows.rowid
    semi join live_users
        on enrolments.user_id = live_users.user_id
    where
        if(
            getvariable('status_not_normalised'),
            raw_rows.status is distinct from 'cancelled',
            not enrolments.is_cancelled
        )

),

learner_pairs as (

    -- legacy: every kept enrolment of a catalogue course, whatever its time
    select
        enrolment_rows.user_id,
        enrolment_rows.course_id,
        count(*) as enrolment_count
    from enrolment_rows
    semi join raw.courses
        on enrolment_rows.course_id = courses.course_id
    where getvariable('counts_later_enrolments')
    group by enrolment_rows.user_id, enrolment_rows.course_id

    union all

    -- the mart's learners as of the date, with their valid enrolments
    select
        pairs.user_id,
        pairs.course_id,
        pairs.valid_enrolment_count as enrolment_count
    from analytics.int_user_course__activity as pairs
    where not getvariable('counts_later_enrolments') and pairs.is_learner

),

event_rows as (

    select
        events.raw_row_id,
        events.event_id,
        events.user_id,
        events.course_id,
        events.event_at,
        events.raw_row_hash,
        events.event_type as normalised_type,
        raw_rows.event_type as raw_type
    from analytics.base_raw__events as events
    inner join raw.events as raw_rows
        on events.raw_row_id = raw_rows.rowid

),

kept_event_rows as (

    select *
    from event_rows
    where getvariable('counts_duplicate_event_rows')

    union all

    -- one row per payload delivered (the base model's fingerprint of the raw row)
    select *
    from event_rows
    where
        not getvariable('counts_duplicate_event_rows')
        and getvariable('counts_conflicting_event_rows')
    qualify row_number() over (partition by event_id, raw_row_hash order by raw_row_id) = 1

    union all

    -- one row per event id: the payload the mart keeps
    select event_rows.*
    from event_rows
    semi join analytics.int_events__deduplicated as deduplicated
        on
            event_rows.event_id = deduplicated.event_id
            and event_rows.raw_row_hash = deduplicated.raw_row_hash
    where not getvariable('counts_conflicting_event_rows')
    qualify row_number() over (partition by event_rows.event_id order by event_rows.raw_row_id) = 1

),

counted_events as (

    select
        user_id,
        course_id,
        event_at,
        raw_type,
        normalised_type,
        if(getvariable('event_type_not_normalised'), raw_type, normalised_type) as event_type
    from kept_event_rows
    where
        (getvariable('counts_events_without_timestamp') or event_at is not null)
        and (
            getvariable('counts_events_after_as_of')
            or coalesce(event_at < getvariable('as_of_end'), true)
        )

),

joined as (

    select
        learner_pairs.user_id,
        learner_pairs.course_id,
        learner_pairs.enrolment_count,
        -- legacy: an event counts once per enrolment row of its pair
        if(getvariable('fans_out_duplicate_enrolments'), learner_pairs.enrolment_count, 1)
            as weight,
        counted_events.raw_type,
        counted_events.normalised_type,
        counted_events.event_type,
        counted_events.event_at,
        counted_events.user_id is not null as is_event
    from learner_pairs
    left join counted_events
        on
            learner_pairs.user_id = counted_events.user_id
            and learner_pairs.course_id = counted_events.course_id

),

per_course as (

    select
        course_id,
        list(distinct user_id order by user_id) as learner_ids,
        coalesce(
            list(distinct user_id order by user_id) filter (
                where
                is_event
                and (
                    not getvariable('active_only_video_quiz')
                    or list_contains(getvariable('legacy_active_types'), event_type)
                )
            ),
            []
        ) as active_ids,
        coalesce(sum(weight) filter (where event_type = 'quiz_submit'), 0) as quizzes,
        coalesce(sum(weight) filter (where event_type = 'video_complete'), 0) as videos,
        min(event_at) as first_activity,
        max(event_at) as last_activity,
        coalesce(
            list(distinct [raw_type, normalised_type] order by [raw_type, normalised_type]) filter (
                where raw_type is distinct from normalised_type
            ),
            []
        ) as type_variants,
        coalesce(
            list(distinct user_id order by user_id) filter (
                where getvariable('fans_out_duplicate_enrolments') and enrolment_count > 1
            ),
            []
        ) as fanned_out_ids
    from joined
    group by course_id

),

by_course as (

    select
        courses.course_id,
        courses.title,
        coalesce(per_course.learner_ids, []) as learner_ids,
        coalesce(per_course.active_ids, []) as active_ids,
        coalesce(per_course.quizzes, 0) as quizzes,
        coalesce(per_course.videos, 0) as videos,
        per_course.first_activity,
        per_course.last_activity,
        case
            when len(per_course.learner_ids) > 0
                then
                    if(
                        getvariable('rounds_engagement_rate'),
                        round(len(per_course.active_ids) / len(per_course.learner_ids), 2),
                        len(per_course.active_ids) / len(per_course.learner_ids)
                    )
        end as engagement_rate,
        coalesce(per_course.type_variants, []) as type_variants,
        coalesce(per_course.fanned_out_ids, []) as fanned_out_ids
    from raw.courses as courses
    left join per_course
        on courses.course_id = per_course.course_id
    where not getvariable('drops_courses_without_enrolments') or per_course.course_id is not null

),

null_course_row as (

    -- legacy: users LEFT JOIN enrolments LEFT JOIN courses leaves the course null for a user
    -- with no enrolment at all, or with a kept enrolment outside the catalogue
    select
        null as course_id,
        null as title,
        no_course.learner_ids,
        [] as active_ids,
        0 as quizzes,
        0 as videos,
        null as first_activity,
        null as last_activity,
        round(0 / len(no_course.learner_ids), 2) as engagement_rate,
        [] as type_variants,
        [] as fanned_out_ids
    from (
        select list(distinct live_users.user_id order by live_users.user_id) as learner_ids
        from live_users
        where
            not exists (
                select 1 from raw.enrolments
                where enrolments.user_id = live_users.user_id
            )
            or exists (
                select 1 from enrolment_rows
                where
                    enrolment_rows.user_id = live_users.user_id
                    and not exists (
                        select 1 from raw.courses
                        where courses.course_id = enrolment_rows.course_id
                    )
            )
    ) as no_course
    where getvariable('emits_null_course_row') and len(no_course.learner_ids) > 0

)

select * from by_course
union all
select * from null_course_row
