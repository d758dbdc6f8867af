{#
    One row per data-quality defect class of the seed defect_classes (its planted classes are
    course_engagement.synthetic.defects.DEFECTS and the keys of data/manifest.json), each counted by the
    definition written there: the pipeline's one count of them. Deleted, for the
    user-level classes, means the version's deleted flag (as defects.py says); the pipeline's
    own rule (flag, or the deleted state) agrees on every generated row. Two classes the
    generator never plants are counted too: enrolments_status_unknown, enrolment rows whose
    status is not blank and not a valid code after trim + lower-case (such an enrolment is not
    cancelled, so it makes a learner; above var max_unknown_enrolment_status_share the build
    fails in the base layer), and enrolments_enrolled_at_empty, enrolment rows without a time
    (such an enrolment makes a learner as of every date).

    A full-history check: the event classes are counted per event over all history
    (int_events__flagged), so the DAG builds it in a full refresh and when triggered with
    full_history_checks (weekly), not every day (tag full_history).
#}
{{ config(tags=['full_history']) }}
with

users as (

    select * from {{ ref('base_raw__users') }}

),

current_users as (

    select * from {{ ref('dim_users') }}
    where is_current

),

courses as (

    select * from {{ ref('base_raw__courses') }}

),

enrolments as (

    select * from {{ ref('base_raw__enrolments') }}

),

defect_classes as (

    select * from {{ ref('defect_classes') }}

),

load_batches as (

    select * from {{ ref('int_load_batches__event_rows') }}

),

events as (

    select * from {{ ref('int_events__flagged') }}

),

user_rows as (

    select
        count(*) - count(distinct user_id) as user_older_versions,
        count(*) filter (where is_user_state_empty) as users_state_empty,
        count(*) filter (where is_user_state_variant) as users_state_variant
    from users

),

user_versions as (

    select
        count(*) filter (
            where is_flagged_deleted and has_older_version_not_flagged_deleted
        ) as users_deleted_latest_with_live_older,
        count(*) filter (
            where not is_flagged_deleted and has_older_version_flagged_deleted
        ) as users_restored
    from current_users

),

course_rows as (

    select
        count(*) filter (where is_category_empty) as courses_category_empty,
        count(*) filter (where is_category_variant) as courses_category_variant,
        count(*) filter (where is_level_empty) as courses_level_empty,
        count(*) filter (where is_level_variant) as courses_level_variant
    from courses

),

enrolment_pairs as (

    select distinct
        user_id,
        course_id
    from enrolments

),

enrolment_rows as (

    select
        count(*) filter (where enrolments.is_enrolment_status_empty)
            as enrolments_status_empty,
        count(*) filter (where enrolments.is_enrolment_status_variant)
            as enrolments_status_variant,
        count(*) filter (
            where enrolments.enrolment_status not in {{ codes_sql('valid_enrolment_statuses') }}
        ) as enrolments_status_unknown,
        count(*) filter (where enrolments.is_enrolled_at_empty) as enrolments_enrolled_at_empty,
        count(*) filter (where enrolments.is_cancelled) as enrolments_cancelled,
        count(*) - (select count(*) from enrolment_pairs)
            as enrolments_duplicate_user_course,
        count(*) filter (where current_users.is_flagged_deleted)
            as enrolments_of_deleted_users
    from enrolments
    left join current_users
        on enrolments.user_id = current_users.user_id

),

event_rows as (

    select sum(event_type_variant_rows) as events_type_variant
    from load_batches

),

deduplicated_events as (

    select
        sum(exact_duplicate_row_count) as events_exact_duplicates,
        sum(conflicting_payload_count) as events_id_conflicts,
        count(*) filter (where is_empty_timestamp) as events_empty_timestamp,
        count(*) filter (where is_future) as events_future,
        count(*) filter (where is_unknown_type) as events_unknown_type,
        count(*) filter (where is_unknown_user and is_course_known) as events_unknown_user,
        count(*) filter (where is_unknown_course and is_user_known) as events_unknown_course,
        count(*) filter (
            where is_user_known and is_course_known and not has_enrolment
        ) as events_without_enrolment,
        count(*) filter (
            where
            is_user_known
            and not is_user_flagged_deleted
            and has_enrolment
            and not has_not_cancelled_enrolment
        ) as events_on_cancelled_enrolment,
        count(*) filter (where is_before_enrolment) as events_before_enrolment
    from events

),

all_counts as (

    select
        user_rows.*,
        user_versions.*,
        course_rows.*,
        enrolment_rows.*,
        event_rows.*,
        deduplicated_events.*
    from user_rows
    cross join user_versions
    cross join course_rows
    cross join enrolment_rows
    cross join event_rows
    cross join deduplicated_events

),

defects as (

    -- a sum over no rows is 0 here (unpivot would drop a null)
    {{ unpivot_counts('all_counts', 'defect', 'defect_count') }}

),

final as (

    -- every class of the seed and every class counted here: a class missing on one side
    -- leaves a null entity or count, which the tests of this model fail on
    select
        cast(coalesce(defects.defect, defect_classes.defect) as string) as defect,
        cast(defect_classes.entity as string) as entity,
        cast(defects.defect_count as bigint) as defect_count,
        {{ as_of_date() }} as as_of_date
    from defects
    full join defect_classes
        on defects.defect = defect_classes.defect

)

select * from final
