-- The week of raw events before the new day $day: what its organic and late rows copy.
create temp table recent as
select
    id,
    user_id,
    course_id,
    event_type,
    event_timestamp,
    session_id,
    metadata
from raw.events
where event_timestamp >= $day::date - interval 7 day and event_timestamp < $day::date
