-- The rows and users behind each anti-pattern of messy_course_engagement_duckdb.sql, counted
-- on a loaded database with the mart built (as_of_date is read from the mart). One row per
-- effect, numbered as in ANALYSIS.md. Course-level effects on the compared metrics come from
-- `course-engagement reconcile`; this file counts what lies behind them, and the effects on
-- the legacy columns the reconciliation does not compare. Run it (see ANALYSIS.md) with:
--   uv run python -c "import duckdb; sql = open('1-sql/legacy_effects.sql').read();
--   con = duckdb.connect('mock_data.duckdb', read_only=True);
--   [print(*row, sep=' | ') for row in con.execute(sql).fetchall()]"
with

as_of as (
    select max(as_of_date) + interval 1 day as end_at
    from analytics.mart_course_engagement
),

latest_users as (
    select
        id,
        deleted,
        state
    from raw.users
    qualify row_number() over (partition by id order by updatedat desc) = 1
),

-- the legacy user set: deleted rows dropped first, then the latest remaining version
legacy_users as (
    select
        id,
        email
    from raw.users
    where deleted is null or not deleted
    qualify row_number() over (partition by id order by updatedat desc) = 1
),

-- the rows the legacy query aggregates, before its GROUP BY (its FROM and WHERE)
legacy_rows as (
    select
        u.id as user_id,
        u.email,
        e.enrolment_id,
        e.status,
        e.enrolled_at,
        c.course_id,
        ev.id as event_id,
        ev.event_type,
        ev.event_timestamp
    from legacy_users as u
    left join raw.enrolments as e on u.id = e.user_id
    left join raw.courses as c on e.course_id = c.course_id
    left join raw.events as ev on u.id = ev.user_id and c.course_id = ev.course_id
    where e.status is null or e.status != 'cancelled'
),

legacy_learners as (
    select distinct
        user_id,
        course_id
    from legacy_rows
    where course_id is not null
),

legacy_courses as (
    select
        course_id,
        count(distinct user_id) as learners,
        count(distinct user_id) filter (
            where event_type in ('video_start', 'video_complete', 'quiz_start', 'quiz_submit')
        ) as active_learners,
        count(distinct user_id) filter (
            where event_type like 'video%' or event_type like 'quiz%'
        ) as active_users
    from legacy_rows
    where course_id is not null
    group by course_id
),

raw_active as (
    select
        course_id,
        count(distinct user_id) as active_users_all
    from raw.events
    where event_type in ('video_start', 'video_complete', 'quiz_start', 'quiz_submit')
    group by course_id
),

deleted_learners as (
    select
        ll.user_id,
        ll.course_id,
        coalesce(lu.deleted, false) as is_flagged
    from legacy_learners as ll
    inner join latest_users as lu on ll.user_id = lu.id
    where lu.deleted or lower(trim(lu.state)) = 'deleted'
),

fanned_out_pairs as (
    select
        user_id,
        course_id
    from legacy_rows
    where course_id is not null
    group by user_id, course_id
    having count(distinct enrolment_id) > 1
),

repeated_event_ids as (
    select id
    from raw.events
    group by id
    having count(*) > 1
),

legacy_event_rows as (
    select
        legacy_rows.*,
        legacy_rows.event_timestamp >= as_of.end_at as is_after_as_of
    from legacy_rows
    cross join as_of
    where legacy_rows.event_id is not null
)

select
    n,
    effect,
    value
from (
    values
    (
        1, 'users counted although their latest version is deleted',
        (
            select count(distinct user_id) from deleted_learners
            where is_flagged
        )
    ),
    (
        2, 'learner-course pairs added by those users',
        (
            select count(*) from deleted_learners
            where is_flagged
        )
    ),
    (
        3, 'users counted although their latest state is deleted (flag unset)',
        (
            select count(distinct user_id) from deleted_learners
            where not is_flagged
        )
    ),
    (
        4, 'enrolment rows kept although cancelled (status spelled differently)',
        (
            select count(distinct enrolment_id) from legacy_rows
            where lower(trim(status)) = 'cancelled'
        )
    ),
    (
        5, 'catalogue courses missing from the legacy output',
        (
            select count(*) from raw.courses as c
            where c.course_id not in (select ll.course_id from legacy_learners as ll)
        )
    ),
    (
        6, 'users in the legacy row with no course',
        (
            select count(distinct user_id) from legacy_rows
            where course_id is null
        )
    ),
    (
        7, 'user-course pairs whose events are joined once per enrolment',
        (select count(*) from fanned_out_pairs)
    ),
    (
        8, 'legacy event rows beyond one per event id and course',
        (select count(*) from legacy_event_rows)
        - (
            select count(*)
            from (
                select distinct
                    event_id,
                    course_id
                from legacy_event_rows
            ) as pairs
        )
    ),
    (
        9, 'raw event ids delivered more than once',
        (select count(*) from repeated_event_ids)
    ),
    (
        10, 'legacy event rows without a timestamp',
        (
            select count(*) from legacy_event_rows
            where event_timestamp is null
        )
    ),
    (
        11, 'legacy event rows after as_of_date',
        (
            select count(*) from legacy_event_rows
            where is_after_as_of
        )
    ),
    (
        12, 'legacy quiz_submit/video_complete rows missed (type spelled differently)',
        (
            select count(*) from legacy_event_rows
            where
                event_type not in ('quiz_submit', 'video_complete')
                and lower(trim(event_type)) in ('quiz_submit', 'video_complete')
        )
    ),
    (
        13, 'courses where active_users (LIKE) != active_learners (IN)',
        (
            select count(*) from legacy_courses
            where active_users != active_learners
        )
    ),
    (
        14, 'courses where active_users_all != active_learners',
        (
            select count(*) from legacy_courses as lc
            left join raw_active as ra on lc.course_id = ra.course_id
            where coalesce(ra.active_users_all, 0) != lc.active_learners
        )
    ),
    (
        15, 'legacy total_events rows that are a learner without any event',
        (
            select count(*) from legacy_rows
            where course_id is not null and event_id is null
        )
    ),
    (
        16, 'legacy rows whose null enrolled_at becomes the run time',
        (
            select count(*) from legacy_rows
            where enrolment_id is not null and enrolled_at is null
        )
    ),
    (
        17, 'learner e-mail addresses published in learner_emails',
        (
            select count(distinct email) from legacy_rows
            where course_id is not null
        )
    )
) as effects (n, effect, value)  -- noqa: AL05
order by n
