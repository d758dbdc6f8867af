{#
    One row per reason of the seed exclusion_reasons: where an event row ends up - counted, or
    dropped by de-duplication (exact_duplicate, id_conflict), or excluded by the first reason
    that applies (see int_events__flagged). Every raw event row is in exactly one reason, so
    sum(event_rows) = rows in raw.events (tested). Built from aggregates, never from events:
    int_events__date_counts (per event date: duplicates dropped, and the events without a
    timestamp, user or course; as_of_date splits the dates) and the user x course activity
    model, whose pairs carry the other reasons: a table rebuilt every run from two small ones.
#}
with

date_counts as (

    select * from {{ ref('int_events__date_counts') }}

),

pairs as (

    select * from {{ ref('int_user_course__activity') }}

),

reasons as (

    -- every reason, in display order: the seed exclusion_reasons
    select
        reason_order,
        reason,
        is_counted
    from {{ ref('exclusion_reasons') }}

),

event_rows as (

    -- what the events say by themselves: duplicates dropped, and the reasons that come before
    -- any user x course rule (an event is after the end of as_of_date when its date is)
    select
        coalesce(sum(exact_duplicate_row_count), 0) as exact_duplicate,
        coalesce(sum(conflicting_payload_count), 0) as id_conflict,
        coalesce(sum(event_count) filter (where event_date is null), 0) as empty_timestamp,
        coalesce(
            sum(no_user_or_course_event_count) filter (where event_date > {{ as_of_date() }}),
            0
        ) as future,  -- noqa: RF04
        coalesce(
            sum(no_user_or_course_event_count) filter (where event_date <= {{ as_of_date() }}),
            0
        ) as missing_user_or_course
    from date_counts

),

pair_rows as (

    select
        coalesce(exclusion_reason, 'counted') as reason,
        sum(event_count) as event_rows
    from pairs
    group by coalesce(exclusion_reason, 'counted')

    union all

    select
        'future' as reason,
        sum(future_event_count) as event_rows
    from pairs

),

reason_rows as (

    select
        reason,
        event_rows
    from event_rows
    unpivot (event_rows for reason in (
        exact_duplicate, id_conflict, empty_timestamp, future, missing_user_or_course
    ))

    union all

    select
        reason,
        event_rows
    from pair_rows

),

reason_totals as (

    select
        reason,
        sum(event_rows) as event_rows
    from reason_rows
    group by reason

),

final as (

    select
        cast(reasons.reason_order as integer) as reason_order,
        cast(reasons.reason as string) as reason,
        cast(reasons.is_counted as boolean) as is_counted,
        cast(coalesce(reason_totals.event_rows, 0) as bigint) as event_rows,
        {{ as_of_date() }} as as_of_date
    from reasons
    left join reason_totals
        on reasons.reason = reason_totals.reason

)

select * from final
