-- The new day's own rows: $organic rows of the week before moved onto $day, and $extra late
-- events of the three days before it, numbered from $first_id with new session ids.
create temp table new_rows as
with organic as (
    select * from recent
    order by random()
    limit $organic
),

late as (
    select * from recent
    where event_timestamp >= $day::date - interval 3 day
    order by random()
    limit $extra
),

numbered as (
    select
        *,
        $first_id + row_number() over (order by event_timestamp, id) - 1 as new_id
    from (
        select
            * replace (
                event_timestamp + ($day::date - event_timestamp::date) * interval 1 day
                    as event_timestamp
            )
        from organic
        union all
        select * from late
    ) as moved
)

select
    new_id as id,
    user_id,
    course_id,
    event_type,
    event_timestamp,
    substr(md5(new_id::varchar), 1, 6) as session_id,
    metadata
from numbered
