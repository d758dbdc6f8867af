-- Per course and user, the raw spellings of a cancelled status that are not 'cancelled'
-- (what status_not_normalised quotes); cancelled as the base model decides it.
select
    enrolments.course_id,
    enrolments.user_id,
    list(distinct raw_rows.status order by raw_rows.status) as spellings
from analytics.base_raw__enrolments as enrolments
inner join raw.enrolments as raw_rows
    on enrolments.raw_row_id = raw_rows.rowid
where enrolments.is_cancelled and raw_rows.status <> 'cancelled'
group by enrolments.course_id, enrolments.user_id
