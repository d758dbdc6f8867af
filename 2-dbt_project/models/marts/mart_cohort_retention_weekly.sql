{#
    One row per cohort week and week since enrolment, from week 0 to the ISO week containing
    as_of_date. A learner's cohort is the Monday of the ISO week of their earliest enrolment
    that makes them a learner (fct_enrolments, any course); a
    learner whose enrolments have no time has no cohort. Active learners are cohort members
    with a counted event, in any course, in that week (up to the end of as_of_date). Weeks
    without activity are rows with zero; a cohort starting after the week of as_of_date has
    no row.

    Incremental (macros/learner_day_changes.sql): a learner-day changed (written or removed
    since the watermark) in week w reaches the rows of week w of every cohort; those weeks and
    the new weeks up to the week of as_of_date are recomputed from their learner-days (literal
    date ranges). fct_enrolments has no changed_at: each cohort's members are compared, as a
    fingerprint, with those of the last run, and a cohort whose members changed is recomputed
    in every week. The rows recomputed replace the stored ones (delete + insert by cohort week
    and week). Full rebuild: no watermark, as_of_date moved back, the fact rebuilt, or a cohort
    lost every member (its rows would have to go).
#}
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        full_refresh=rebuilt_every_run(),
        unique_key=['cohort_week', 'weeks_since_enrolment'],
        on_schema_change='fail',
        pre_hook="{{ rebuild_unless_seen(ref('fct_learner_course_days'), cohort_gone()) }}",
        post_hook=[
            "{{ remember_learner_days_seen(ref('fct_learner_course_days')) }}",
            "{{ remember_key_fingerprints(cohort_members()) }}",
        ],
    )
}}

{% set fact = ref('fct_learner_course_days') %}
{% set seen = learner_days_seen(fact, cohort_gone()) %}
{% if seen %}
    {% set recomputed_weeks = learner_weeks_changed_since(
        fact, seen, 'select max(cohort_week + 7 * weeks_since_enrolment) from ' ~ this
    ) %}
    {% set read_dates = dates_reached(recomputed_weeks, 0, 6) %}
    {% do log_recomputed(recomputed_weeks, 'weeks of every cohort') %}
    {% do log_recomputed(
        'select * from (' ~ changed_key_fingerprints(cohort_members()) ~ ') as changed where not is_gone',
        'cohorts in every week'
    ) %}
{% endif %}

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
        {{ cohort_week('enrolled_at') }} as cohort_week
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
        {{ integer_series(
            '0', weeks_between('cohort_sizes.cohort_week', 'as_of_week.week_start')
        ) }} as weeks_since_enrolment
    from cohort_sizes
    cross join as_of_week

),

{% if seen %}

changed_cohorts as (

    select cast(key as date) as cohort_week
    from ({{ changed_key_fingerprints(cohort_members()) }}) as changed
    where not is_gone

),

{% endif %}

active_weeks as (

    select distinct
        user_id,
        cast(date_trunc('week', activity_date) as date) as activity_week
    from learner_days
    {%- if seen %}
    where
        {{ within_dates_of('activity_date', read_dates) }}
        or user_id in (
            select cohorts.user_id from cohorts
            semi join changed_cohorts on cohorts.cohort_week = changed_cohorts.cohort_week
        )
    {%- endif %}

),

member_weeks as (

    -- each cohort member's active weeks from their cohort week on
    select
        cohorts.cohort_week,
        {{ weeks_between('cohorts.cohort_week', 'active_weeks.activity_week') }}
            as weeks_since_enrolment
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
    {%- if seen %}
    where
        cohort_weeks.cohort_week in (select changed_cohorts.cohort_week from changed_cohorts)
        or {{ within_dates_of(
            'cohort_weeks.cohort_week + cast(7 * cohort_weeks.weeks_since_enrolment as integer)',
            recomputed_weeks
        ) }}
    {%- endif %}

)

select * from final
