{#
    One row per reason of the seed exclusion_reasons: where an event row ends up - counted, or
    dropped by de-duplication (exact_duplicate, id_conflict), or excluded by the first reason
    that applies (see int_events__flagged). Every raw event row is in exactly one reason, so
    sum(event_rows) = rows in raw.events (tested). Built from aggregates: the de-duplicated
    events' own counts (duplicates, and the events without a timestamp, user or course) and the
    user x course activity model, whose pairs carry the other reasons - never from a per-event
    table rebuilt every run.
#}
with

events as (

    select * from {{ ref('int_events__deduplicated') }}

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
    -- any user x course rule
    select
        sum(exact_duplicate_row_count) as exact_duplicate,
        sum(conflicting_payload_count) as id_conflict,
        count(*) filter (where event_at is null) as empty_timestamp,
        count(*) filter (
            where event_at >= {{ as_of_end_at() }} and (user_id is null or course_id is null)
        ) as future,  -- noqa: RF04
        count(*) filter (
            where event_at < {{ as_of_end_at() }} and (user_id is null or course_id is null)
        ) as missing_user_or_course
    from events

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
        cast(reasons.reason as varchar) as reason,
        cast(reasons.is_counted as boolean) as is_counted,
        cast(coalesce(reason_totals.event_rows, 0) as bigint) as event_rows,
        {{ as_of_date() }} as as_of_date
    from reasons
    left join reason_totals
        on reasons.reason = reason_totals.reason

)

select * from final
