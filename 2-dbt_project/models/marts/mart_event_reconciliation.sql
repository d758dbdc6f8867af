{#
    One row per reason an event row ends up where it does: counted, or dropped by
    de-duplication (exact_duplicate, id_conflict), or excluded by the first reason in
    int_events__flagged that applies. Every raw event row is in exactly one reason, so
    sum(event_rows) = rows in raw.events (tested).
#}
with

events as (

    select * from {{ ref('int_events__flagged') }}

),

reasons as (

    select
        reason_list.reason_order,
        reason_list.reason,
        reason_list.is_counted
    from (
        values
        (1, 'counted', true),
        (2, 'exact_duplicate', false),
        (3, 'id_conflict', false),
        (4, 'empty_timestamp', false),
        (5, 'future', false),
        (6, 'missing_user_or_course', false),
        (7, 'unknown_user', false),
        (8, 'unknown_course', false),
        (9, 'without_enrolment', false),
        (10, 'deleted_user', false),
        (11, 'on_cancelled_enrolment', false)
    ) as reason_list (reason_order, reason, is_counted)

),

kept_rows as (

    select
        coalesce(exclusion_reason, 'counted') as reason,
        count(*) as event_rows
    from events
    group by coalesce(exclusion_reason, 'counted')

),

dropped_rows as (

    select
        'exact_duplicate' as reason,
        sum(exact_duplicate_row_count) as event_rows
    from events

    union all

    select
        'id_conflict' as reason,
        sum(conflicting_payload_count) as event_rows
    from events

),

reason_rows as (

    select * from kept_rows
    union all
    select * from dropped_rows

),

final as (

    select
        cast(reasons.reason_order as integer) as reason_order,
        cast(reasons.reason as varchar) as reason,
        cast(reasons.is_counted as boolean) as is_counted,
        cast(coalesce(reason_rows.event_rows, 0) as bigint) as event_rows,
        {{ as_of_date() }} as as_of_date
    from reasons
    left join reason_rows
        on reasons.reason = reason_rows.reason

)

select * from final
