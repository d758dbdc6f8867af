{#
    One row per learner x course x date (UTC) with at least one counted event, up to
    as_of_date: the days of int_user_course__daily_activity whose user x course pair is a
    learner pair of int_user_course__activity (who is a learner is decided there, once), cut
    at as_of_date, with the day's counted events, quizzes and videos (the completion rules:
    vars quiz_completion_event_types, video_completion_event_types). The time-series marts
    read it; a user x day count is a distinct over it.

    Incremental at pair grain (macros/learner_day_changes.sql): a run rewrites only the pairs
    whose days can differ from what it holds - days the new load batches changed or left, and
    pairs whose counted events as of as_of_date differ from the stored ones (learner gained or
    lost, as_of_date moved either way, a run that failed half way). Each written row carries
    changed_at (the run); a day that stops counting stays as a marker (is_removed), read by the
    marts and by nobody else. Bookkeeping: load_batch_id (the newest batch taken, its
    watermark), changed_at, is_removed. History reloaded or a row changed twice since the
    watermark: it rebuilds from every batch (macros/load_batches.sql).
#}
-- sqlfluff:indentation:template_blocks_indent:false
{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy_for('merge'),
        full_refresh=rebuilt_every_run(),
        unique_key=['user_id', 'course_id', 'activity_date'],
        on_schema_change='fail',
        pre_hook="{{ reset_when_history_replaced(changes_in=ref('int_events__deduplicated')) }}",
    )
}}

{% set events = ref('int_events__deduplicated') %}
{% set every_batch = takes_every_load_batch(changes_in=events) %}

with

activity as (

    select * from {{ ref('int_user_course__activity') }}

),

daily_activity as (

    select * from {{ ref('int_user_course__daily_activity') }}

),

load_batches as (

    select * from {{ ref('int_load_batches__event_rows') }}

),

learner_pairs as (

    select
        user_id,
        course_id
    from activity
    where is_learner

),

{% if not every_batch %}

changed_pairs as (

    {{ changed_learner_pairs(
        load_batch_watermark(), ref('int_user_course__daily_activity'), events, ref('int_user_course__activity')
    ) }}

),

{% endif %}

learner_days as (

    select
        daily_activity.user_id,
        daily_activity.course_id,
        daily_activity.activity_date,
        daily_activity.event_count,
        cast(coalesce({{ event_type_count('quiz_completion_event_types') }}, 0) as bigint)
            as quizzes_completed,
        cast(coalesce({{ event_type_count('video_completion_event_types') }}, 0) as bigint)
            as videos_completed
    from daily_activity
    semi join learner_pairs
        on
            daily_activity.user_id = learner_pairs.user_id
            and daily_activity.course_id = learner_pairs.course_id
    {%- if not every_batch %}
    semi join changed_pairs
        on
            daily_activity.user_id = changed_pairs.user_id
            and daily_activity.course_id = changed_pairs.course_id
    {%- endif %}
    where
        daily_activity.activity_date <= {{ as_of_date() }}
        and daily_activity.event_count > 0

),

{% if not every_batch %}

stored as (

    select stored_days.*
    from {{ this }} as stored_days
    semi join changed_pairs
        on
            stored_days.user_id = changed_pairs.user_id
            and stored_days.course_id = changed_pairs.course_id
    where not stored_days.is_removed

),

changes as (

    -- the changed pairs' days that differ from what is stored; a stored day now missing
    -- becomes a removed marker
    select
        coalesce(learner_days.user_id, stored.user_id) as user_id,
        coalesce(learner_days.course_id, stored.course_id) as course_id,
        coalesce(learner_days.activity_date, stored.activity_date) as activity_date,
        coalesce(learner_days.event_count, 0) as event_count,
        coalesce(learner_days.quizzes_completed, 0) as quizzes_completed,
        coalesce(learner_days.videos_completed, 0) as videos_completed,
        learner_days.user_id is null as is_removed
    from learner_days
    full outer join stored
        on
            learner_days.user_id = stored.user_id
            and learner_days.course_id = stored.course_id
            and learner_days.activity_date = stored.activity_date
    where
        learner_days.user_id is null
        or stored.user_id is null
        or learner_days.event_count != stored.event_count
        or learner_days.quizzes_completed != stored.quizzes_completed
        or learner_days.videos_completed != stored.videos_completed

),

{% else %}

changes as (

    select
        *,
        false as is_removed
    from learner_days

),

{% endif %}

final as (

    select
        user_id,
        course_id,
        activity_date,
        cast(event_count as bigint) as event_count,
        quizzes_completed,
        videos_completed,
        (select max(load_batches.load_batch_id) from load_batches) as load_batch_id,
        {{ learner_days_run_at() }} as changed_at,
        is_removed
    from changes

)

select * from final
