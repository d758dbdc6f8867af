{#
    One row per enrolment that makes its user a learner of its course as of as_of_date: made
    before the end of as_of_date (an enrolment without a time counts, flagged
    is_enrolled_at_empty), the status is not cancelled (a null status counts), the user's
    latest version is not deleted (a deletion applies to all history), and the course is in
    the catalogue. A user can hold several valid enrolments in one course.
#}
with

enrolments as (

    select * from {{ ref('base_raw__enrolments') }}

),

users as (

    select * from {{ ref('dim_users') }}
    where is_current

),

courses as (

    select * from {{ ref('dim_courses') }}

),

valid_enrolments as (

    select
        enrolments.enrolment_id,
        enrolments.user_id,
        enrolments.course_id,
        enrolments.enrolment_status,
        enrolments.enrolled_at,
        enrolments.is_enrolled_at_empty
    from enrolments
    inner join users
        on enrolments.user_id = users.user_id
    inner join courses
        on enrolments.course_id = courses.course_id
    where
        not enrolments.is_cancelled
        and not users.is_deleted
        and (enrolments.enrolled_at < {{ as_of_end_at() }} or enrolments.is_enrolled_at_empty)

)

select * from valid_enrolments
