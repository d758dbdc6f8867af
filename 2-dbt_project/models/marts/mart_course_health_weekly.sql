{#
    Course health per ISO week, as of as_of_date: one row per catalogue course and week (Monday
    week_start), from the week of the first counted event (any course) to the week holding
    as_of_date. Every number is made of counted events (the learner days of
    fct_learner_course_days) and learners (fct_enrolments); definitions in _metrics.md.

    How it scales: nothing joins weeks with user-days. Weekly counts are one group by over the
    counted user-course-days. The 30-day distinct count per week uses intervals: a day d counts
    its learner at every window end from d to d + 29, so per learner x course the days' intervals
    are merged into disjoint islands (a lag and a running sum over the days), each island
    covers a run of consecutive weeks (their window end: Sunday, or as_of_date in its week), and
    the island adds +1 at its first week and -1 after its last; a running sum per course over
    the weeks gives the distinct learners. Learners per week are a running sum of enrolment
    weeks the same way. Cost: O(user-course-days + courses x weeks).

    Incremental (macros/course_health_changes.sql): a run recomputes only the course x weeks
    that the learner days changed since its watermark reach (their week, the 30-day windows
    after them, the next weeks' previous week and baseline), reading the learner days from
    the first of those weeks' baseline and window on, plus the weeks from the old as_of_date's
    on; fct_enrolments and dim_courses are compared at small grains every run: per course and
    week the learner steps (a change reaches the course's later weeks), per course whether it
    is new or its first active week moved (all its weeks). It deletes and inserts those rows
    and restamps as_of_date on the rest. Full rebuild: no watermark, as_of_date moved back,
    the fact rebuilt, the first week moved, or a course left the catalogue.
#}
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        full_refresh=rebuilt_every_run(),
        unique_key=['course_id', 'week_start'],
        on_schema_change='fail',
        pre_hook="{{ reset_course_health_when_rebuilt() }}",
        post_hook="{{ remember_course_health_watermark() }}",
    )
}}

{% set watermark = course_health_watermark() %}

with

courses as (

    select * from {{ ref('dim_courses') }}

),

enrolments as (

    select * from {{ ref('fct_enrolments') }}

),

learner_days as (

    select * from {{ ref('fct_learner_course_days') }}
    where not is_removed

),

first_counted_days as (

    select
        user_id,
        course_id,
        min(activity_date) as first_activity_date
    from learner_days
    group by user_id, course_id

),

learner_pairs as (

    select
        enrolments.user_id,
        enrolments.course_id,
        min(enrolments.enrolled_at) as first_enrolled_at,
        -- the earlier of the first enrolment's week (up to as_of_date) and the first counted
        -- event's week; null when neither exists
        least(
            case
                when min(enrolments.enrolled_at) < {{ as_of_end_at() }}
                    then cast(date_trunc('week', min(enrolments.enrolled_at)) as date)
            end,
            cast(date_trunc('week', any_value(first_counted_days.first_activity_date)) as date)
        ) as first_learner_week_start
    from enrolments
    left join first_counted_days
        on
            enrolments.user_id = first_counted_days.user_id
            and enrolments.course_id = first_counted_days.course_id
    group by enrolments.user_id, enrolments.course_id

),

weeks as (

    -- every week from the first counted event's to as_of_date's, with or without activity
    select
        series.week_start,
        least(series.week_start + 6, {{ as_of_date() }}) as week_end_date
    from (
        select {{ date_series('first_week_start', as_of_date(), 7) }} as week_start
        from (
            select cast(date_trunc('week', min(first_activity_date)) as date) as first_week_start
            from first_counted_days
        ) as bounds
        where first_week_start is not null
    ) as series

),

course_weeks as (

    select
        courses.course_id,
        weeks.week_start,
        weeks.week_end_date
    from courses
    cross join weeks

),

first_week as (

    select min(week_start) as week_start from weeks

),

learner_start_weeks as (

    -- a learner counts from the week of their first enrolment up to as_of_date or of their
    -- first counted event, whichever is earlier (so active learners never exceed learners),
    -- weeks before the first row folded into it; an enrolment without a time counts in every
    -- week; null: never (enrolled after as_of_date, no counted event)
    select
        learner_pairs.course_id,
        case
            when learner_pairs.first_enrolled_at is null then first_week.week_start
            when learner_pairs.first_learner_week_start is not null
                then greatest(learner_pairs.first_learner_week_start, first_week.week_start)
        end as week_start
    from learner_pairs
    cross join first_week

),

learner_steps as (

    select
        course_id,
        week_start,
        count(*) as step
    from learner_start_weeks
    where week_start is not null
    group by course_id, week_start

),

first_active_weeks as (

    -- a course's first week with a counted event
    select
        course_id,
        cast(date_trunc('week', min(first_activity_date)) as date) as first_active_week_start
    from first_counted_days
    group by course_id

),

{% if watermark is not none %}

changed_weeks as (

    {{ course_health_changed_weeks(watermark, 'course_weeks', 'learner_steps', 'first_active_weeks') }}

),

{% endif %}

counted_days as (

    -- a learner's days with counted events, per day
    select
        user_id,
        course_id,
        activity_date,
        cast(date_trunc('week', activity_date) as date) as week_start,
        quizzes_completed,
        videos_completed
    from learner_days
    {%- if watermark is not none %}
    -- the days the recomputed weeks read: their windows and their baselines' weeks
    where activity_date >= {{ course_health_reads_from('changed_weeks') }}
    {%- endif %}

),

weekly_activity as (

    select
        course_id,
        week_start,
        count(distinct user_id) as active_learners,
        sum(quizzes_completed) as quizzes_completed,
        sum(videos_completed) as videos_completed
    from counted_days
    group by course_id, week_start

),

day_gaps as (

    select
        user_id,
        course_id,
        activity_date,
        {{ days_between(
            'lag(activity_date) over (partition by user_id, course_id order by activity_date)',
            'activity_date'
        ) }} as days_since_previous
    from counted_days

),

island_numbers as (

    -- a day starts a new island when its window-end interval does not touch the previous one
    select
        user_id,
        course_id,
        activity_date,
        sum(
            case
                when
                    days_since_previous is null
                    or days_since_previous > {{ activity_window_days() }}
                    then 1
                else 0
            end
        ) over (
            partition by user_id, course_id
            order by activity_date
            rows between unbounded preceding and current row
        ) as island_number
    from day_gaps

),

islands as (

    -- the window ends each island covers: [first day, last day + window - 1]
    select
        course_id,
        min(activity_date) as covered_from,
        max(activity_date) + ({{ activity_window_days() }} - 1) as covered_until
    from island_numbers
    group by user_id, course_id, island_number

),

island_weeks as (

    -- the first and last week whose window end the island covers
    select
        course_id,
        cast(date_trunc('week', covered_from) as date) as first_week_start,
        case
            when covered_until >= {{ as_of_date() }}
                then cast(date_trunc('week', {{ as_of_date() }}) as date)
            else cast(date_trunc('week', covered_until - 6) as date)
        end as last_week_start
    from islands

),

window_steps as (

    select
        course_id,
        week_start,
        sum(step) as step
    from (
        select
            course_id,
            first_week_start as week_start,
            1 as step
        from island_weeks
        where first_week_start <= last_week_start

        union all

        select
            course_id,
            last_week_start + 7 as week_start,
            -1 as step
        from island_weeks
        where first_week_start <= last_week_start
    ) as steps
    group by course_id, week_start

),

weekly as (

    select
        course_weeks.course_id,
        course_weeks.week_start,
        course_weeks.week_end_date,
        sum(coalesce(learner_steps.step, 0)) over course_history as learners,
        coalesce(weekly_activity.active_learners, 0) as active_learners,
        sum(coalesce(window_steps.step, 0)) over course_history as active_learners_30d,
        coalesce(weekly_activity.quizzes_completed, 0) as quizzes_completed,
        coalesce(weekly_activity.videos_completed, 0) as videos_completed,
        first_active_weeks.first_active_week_start
    from course_weeks
    left join weekly_activity
        on
            course_weeks.course_id = weekly_activity.course_id
            and course_weeks.week_start = weekly_activity.week_start
    left join window_steps
        on
            course_weeks.course_id = window_steps.course_id
            and course_weeks.week_start = window_steps.week_start
    left join learner_steps
        on
            course_weeks.course_id = learner_steps.course_id
            and course_weeks.week_start = learner_steps.week_start
    left join first_active_weeks
        on course_weeks.course_id = first_active_weeks.course_id
    window course_history as (
        partition by course_weeks.course_id
        order by course_weeks.week_start
        rows between unbounded preceding and current row
    )

),

compared as (

    select
        course_id,
        week_start,
        week_end_date,
        learners,
        active_learners,
        active_learners_30d,
        quizzes_completed,
        videos_completed,
        coalesce(
            lag(active_learners) over (partition by course_id order by week_start), 0
        ) as active_learners_previous_week,
        avg(active_learners) over (
            partition by course_id
            order by week_start
            rows between {{ course_health_weeks('course_health_baseline_weeks') }} preceding
            and 1 preceding
        ) as active_learners_baseline,
        first_active_week_start
    from weekly

),

rated as (

    select
        course_id,
        week_start,
        week_end_date,
        learners,
        active_learners,
        active_learners_previous_week,
        active_learners_30d,
        quizzes_completed,
        videos_completed,
        active_learners_baseline,
        first_active_week_start,
        (active_learners - active_learners_baseline)
        / nullif(active_learners_baseline, 0) as active_learners_change
    from compared

),

final as (

    select
        cast(course_id as bigint) as course_id,
        cast(week_start as date) as week_start,
        cast(week_end_date as date) as week_end_date,
        cast(learners as bigint) as learners,
        cast(active_learners as bigint) as active_learners,
        cast(active_learners_previous_week as bigint) as active_learners_previous_week,
        cast(active_learners_30d as bigint) as active_learners_30d,
        cast(quizzes_completed as bigint) as quizzes_completed,
        cast(videos_completed as bigint) as videos_completed,
        cast(active_learners_baseline as double) as active_learners_baseline,
        cast(active_learners_change as double) as active_learners_change,
        cast(
            case
                when active_learners_30d = 0 then 'dormant'
                when
                    week_start
                    < first_active_week_start
                    + 7 * {{ course_health_weeks('course_health_new_weeks') }}
                    then 'new'
                when
                    coalesce(active_learners_baseline, 0) = 0
                    or active_learners_change
                    >= {{ course_health_change('course_health_growing_change') }}
                    then 'growing'
                when
                    active_learners_change
                    <= {{ course_health_change('course_health_declining_change') }}
                    then 'declining'
                else 'steady'
            end as string
        ) as health_status,
        {{ as_of_date() }} as as_of_date
    from rated
    {%- if watermark is not none %}
    semi join changed_weeks
        on
            rated.course_id = changed_weeks.course_id
            and rated.week_start = changed_weeks.week_start
    {%- endif %}

)

select * from final
