{#
    One row per cohort week and week since enrolment, from week 0 to the ISO week containing
    as_of_date. A learner's cohort is the Monday of the ISO week of their earliest enrolment
    that makes them a learner (fct_enrolments, any course); a
    learner whose enrolments have no time has no cohort. Active learners are cohort members
    with a counted event, in any course, in that week (up to the end of as_of_date). Weeks
    without activity are rows with zero; a cohort starting after the week of as_of_date has
    no row.
#}
with

enrolments as (

    select * from {{ ref('fct_enrolments') }}

),

learner_days as (

    select * from {{ ref('fct_learner_course_days') }}
    where not is_removed

),

as_of_week as (

    select cast(date_trunc('week', {{ as_of_date() }}) as date) as week_start

),

cohorts as (

    select
        user_id,
        cast(date_trunc('week', min(enrolled_at)) as date) as cohort_week
    from enrolments
    group by user_id
    having min(enrolled_at) is not null

),

cohort_sizes as (

    select
        cohort_week,
        count(*) as cohort_learners
    from cohorts
    group by cohort_week

),

cohort_weeks as (

    select
        cohort_sizes.cohort_week,
        cohort_sizes.cohort_learners,
        unnest(range(0, (as_of_week.week_start - cohort_sizes.cohort_week) // 7 + 1))
            as weeks_since_enrolment
    from cohort_sizes
    cross join as_of_week

),

active_weeks as (

    select distinct
        user_id,
        cast(date_trunc('week', activity_date) as date) as activity_week
    from learner_days

),

member_weeks as (

    -- each cohort member's active weeks from their cohort week on
    select
        cohorts.cohort_week,
        (active_weeks.activity_week - cohorts.cohort_week) // 7 as weeks_since_enrolment
    from active_weeks
    inner join cohorts
        on active_weeks.user_id = cohorts.user_id
    where active_weeks.activity_week >= cohorts.cohort_week

),

cohort_activity as (

    select
        cohort_week,
        weeks_since_enrolment,
        count(*) as active_learners
    from member_weeks
    group by cohort_week, weeks_since_enrolment

),

final as (

    select
        cast(cohort_weeks.cohort_week as date) as cohort_week,
        cast(cohort_weeks.weeks_since_enrolment as integer) as weeks_since_enrolment,
        cast(cohort_weeks.cohort_learners as bigint) as cohort_learners,
        cast(coalesce(cohort_activity.active_learners, 0) as bigint) as active_learners,
        cast(
            coalesce(cohort_activity.active_learners, 0) / cohort_weeks.cohort_learners
            as double
        ) as retention_rate
    from cohort_weeks
    left join cohort_activity
        on
            cohort_weeks.cohort_week = cohort_activity.cohort_week
            and cohort_weeks.weeks_since_enrolment = cohort_activity.weeks_since_enrolment

)

select * from final
