{#
    How fct_learner_course_days stays incremental.

    The learner-day fact rewrites only the pairs whose learner days can differ from what it
    holds (changed_learner_pairs), and marks each row it writes with the run that wrote it
    (changed_at: dbt's run_started_at). A learner-day that stops counting stays as a marker
    (is_removed), so a reader can see every key that changed since a given run: the hook for
    incremental time-series marts (each would keep the newest changed_at it has read as its
    watermark; not built yet, the marts are still tables rebuilt every run).
#}

{% macro learner_days_run_at() -%}
    {#- SQL literal: this run's mark on the rows it writes (dbt's run_started_at, UTC). -#}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro changed_learner_pairs(watermark, daily_activity, events, activity) -%}
    {#-
        SQL: the user x course pairs whose learner days may differ from the stored ones: a day
        the load batches after `watermark` added or changed, a day a replaced payload left, and
        a pair whose counted events as of as_of_date are not those stored (a learner gained or
        lost by a users or enrolments reload, as_of_date moved, a run that failed half way).
    -#}
    select
        user_id,
        course_id
    from {{ daily_activity }}
    where load_batch_id > {{ watermark }}

    union

    select
        replaced_user_id as user_id,
        replaced_course_id as course_id
    from {{ events }}
    where
        load_batch_id > {{ watermark }}
        and payload_change = 'new_payload'
        and replaced_user_id is not null
        and replaced_course_id is not null

    union

    select
        coalesce(current_pairs.user_id, stored_pairs.user_id) as user_id,
        coalesce(current_pairs.course_id, stored_pairs.course_id) as course_id
    from (
        select
            user_id,
            course_id,
            counted_event_count
        from {{ activity }}
        where is_learner and counted_event_count > 0
    ) as current_pairs
    full outer join (
        select
            user_id,
            course_id,
            sum(event_count) as counted_event_count
        from {{ this }}
        where not is_removed
        group by user_id, course_id
    ) as stored_pairs
        on
            current_pairs.user_id = stored_pairs.user_id
            and current_pairs.course_id = stored_pairs.course_id
    where current_pairs.counted_event_count is distinct from stored_pairs.counted_event_count
{%- endmacro %}
