{#
    One row per date (UTC) from the first counted event's date to as_of_date, days without
    activity included: distinct learners with a counted event that day, in the 7 days and in
    the 30 days ending that day (vars weekly_activity_window_days, activity_window_days).

    How the rolling distinct counts scale (O(learner-days), never date x window): a learner
    active on day d is counted on the days d to d + N - 1. For each window length N and each
    learner, those intervals are merged where they overlap or touch (a new interval starts
    when the gap to the learner's previous active day exceeds N), so a learner is in at most
    one interval on any day. Each interval adds +1 on its first day and -1 on the day after
    its last; the count on a date is the running sum of those changes up to it. One window
    function per learner over their active days, one running sum over the dates.

    Incremental (macros/learner_day_changes.sql): a learner-day changed on date d (written,
    or removed, since the watermark) reaches the rows d .. d + 29 (the longest window); those
    dates and the new dates up to as_of_date are recomputed from the learner-days of the 29
    days before them on (literal date ranges) and replace the stored rows (delete + insert by
    activity_date). Its only input is the learner-day fact, so nothing else needs comparing.
    A first active date moved earlier adds the dates before the stored first one. Full
    rebuild: no watermark, as_of_date moved back, the fact rebuilt, or the first active date
    moved later (the dates before it would have to go).
#}
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('delete+insert'),
        full_refresh=rebuilt_every_run(),
        unique_key='activity_date',
        on_schema_change='fail',
        pre_hook="{{ rebuild_unless_seen(ref('fct_learner_course_days'), first_active_date_moved_later()) }}",
        post_hook="{{ remember_learner_days_seen(ref('fct_learner_course_days')) }}",
    )
}}

{% set fact = ref('fct_learner_course_days') %}
{% set seen = learner_days_seen(fact, first_active_date_moved_later()) %}
{% if seen %}
    {% set recomputed_dates = active_learner_dates_reached(fact, seen) %}
    {% do log_recomputed(
        'select * from (' ~ recomputed_dates ~ ') as reached (activity_date) where activity_date <= ' ~ as_of_date(),
        'dates'
    ) %}
{% endif %}

with

learner_days as (

    select * from {{ fact }}
    where
        {% if seen -%}
            {{ within_dates_of('activity_date', dates_read_for(recomputed_dates)) }} and
        {% endif -%}
        not is_removed

),

active_days as (

    -- one row per learner x date with a counted event, in any course
    select distinct
        user_id,
        activity_date
    from learner_days

),

windows as (

    select {{ window_days('weekly_activity_window_days') }} as window_days
    union all
    select {{ activity_window_days() }} as window_days

),

dates as (

    select {{ date_series('first_activity_date', as_of_date()) }} as activity_date
    from (
        -- when incremental, of every learner-day: the days read may start later
        select min(activity_date) as first_activity_date
        from {{ fact if seen else 'active_days' }}
        {%- if seen %}
        where not is_removed
        {%- endif %}
    ) as bounds
    where first_activity_date is not null

),

daily_counts as (

    select
        activity_date,
        count(*) as daily_active_learners
    from active_days
    group by activity_date

),

gaps as (

    -- each learner's active day and the one before it
    select
        user_id,
        activity_date,
        lag(activity_date) over (
            partition by user_id order by activity_date
        ) as previous_activity_date
    from active_days

),

interval_starts as (

    select
        windows.window_days,
        gaps.user_id,
        gaps.activity_date,
        case
            when gaps.previous_activity_date is null then 1
            when
                {{ days_between('gaps.previous_activity_date', 'gaps.activity_date') }}
                > windows.window_days
                then 1
            else 0
        end as starts_interval
    from gaps
    cross join windows

),

numbered as (

    select
        window_days,
        user_id,
        activity_date,
        sum(starts_interval) over (
            partition by window_days, user_id
            order by activity_date
            rows between unbounded preceding and current row
        ) as interval_number
    from interval_starts

),

merged_intervals as (

    select
        window_days,
        user_id,
        min(activity_date) as covered_from,
        max(activity_date) + (window_days - 1) as covered_to
    from numbered
    group by window_days, user_id, interval_number

),

changes as (

    select
        window_days,
        covered_from as change_date,
        1 as count_change
    from merged_intervals

    union all

    select
        window_days,
        covered_to + 1 as change_date,
        -1 as count_change
    from merged_intervals
    where covered_to < {{ as_of_date() }}

),

daily_changes as (

    select
        change_date,
        sum(count_change) filter (
            where window_days = {{ window_days('weekly_activity_window_days') }}
        ) as weekly_change,
        sum(count_change) filter (
            where window_days = {{ activity_window_days() }}
        ) as monthly_change
    from changes
    group by change_date

),

running as (

    select
        dates.activity_date,
        coalesce(daily_counts.daily_active_learners, 0) as daily_active_learners,
        sum(coalesce(daily_changes.weekly_change, 0)) over (
            order by dates.activity_date
            rows between unbounded preceding and current row
        ) as weekly_active_learners,
        sum(coalesce(daily_changes.monthly_change, 0)) over (
            order by dates.activity_date
            rows between unbounded preceding and current row
        ) as monthly_active_learners
    from dates
    left join daily_counts
        on dates.activity_date = daily_counts.activity_date
    left join daily_changes
        on dates.activity_date = daily_changes.change_date

),

final as (

    select
        cast(activity_date as date) as activity_date,
        cast(daily_active_learners as bigint) as daily_active_learners,
        cast(weekly_active_learners as bigint) as weekly_active_learners,
        cast(monthly_active_learners as bigint) as monthly_active_learners,
        cast(
            daily_active_learners / nullif(monthly_active_learners, 0) as double
        ) as stickiness
    from running
    {%- if seen %}
    where {{ within_dates_of('activity_date', recomputed_dates) }}
    {%- endif %}

)

select * from final
