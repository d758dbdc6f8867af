-- Counted events reconcile: raw event rows = counted + each excluded reason, and every
-- reason's rows equal an independent recount (from the base model for the rows dropped by
-- de-duplication, from the flagged events for the rest), and the counted rows are exactly
-- the events summed up in the activity model behind the mart. Returns the reasons (or the
-- total) that do not add up.
--
-- A full-history check: it reads every raw and every de-duplicated event, so it runs in a full
-- refresh and on demand (var full_history_checks, the DAG's param of the same name); a daily
-- run checks the totals only (assert_event_reconciliation_adds_up_to_the_loaded_rows).
-- depends_on: {{ ref('base_raw__events') }}
-- depends_on: {{ ref('int_events__flagged') }}
-- depends_on: {{ ref('int_user_course__activity') }}
-- depends_on: {{ ref('mart_event_reconciliation') }}
{%- if not full_history_checks() %}
    select
        null as reason,
        0 as reconciled_rows,
        0 as expected_rows
    where false
{%- else %}
with

raw_events as (

    select * from {{ ref('base_raw__events') }}

),

events as (

    select * from {{ ref('int_events__flagged') }}

),

activity as (

    select * from {{ ref('int_user_course__activity') }}

),

reconciliation as (

    select * from {{ ref('mart_event_reconciliation') }}

),

payloads as (

    select
        event_id,
        count(*) as raw_rows,
        count(distinct raw_row_hash) as distinct_payloads
    from raw_events
    group by event_id

),

expected as (

    select
        'exact_duplicate' as reason,
        sum(raw_rows - distinct_payloads) as event_rows
    from payloads

    union all

    select
        'id_conflict' as reason,
        sum(distinct_payloads - 1) as event_rows
    from payloads

    union all

    select
        coalesce(exclusion_reason, 'counted') as reason,
        count(*) as event_rows
    from events
    group by coalesce(exclusion_reason, 'counted')

),

by_reason as (

    select
        coalesce(reconciliation.reason, expected.reason) as reason,
        coalesce(reconciliation.event_rows, 0) as reconciled_rows,
        coalesce(expected.event_rows, 0) as expected_rows
    from reconciliation
    full outer join expected
        on reconciliation.reason = expected.reason

),

totals as (

    select
        'total: raw rows' as reason,
        (select sum(event_rows) from reconciliation) as reconciled_rows,
        (select count(*) from raw_events) as expected_rows

    union all

    select
        'counted: activity model' as reason,
        (
            select event_rows from reconciliation
            where reason = 'counted'
        ) as reconciled_rows,
        (select sum(counted_event_count) from activity) as expected_rows

)

select * from by_reason
where reconciled_rows <> expected_rows

union all

select * from totals
where reconciled_rows is distinct from expected_rows
{%- endif %}
