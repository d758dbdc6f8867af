-- The day file: its own rows plus $extra of each kind of repeat a real feed carries.
create temp table day_file as
select * from new_rows  -- noqa: AM04
union all  -- re-delivered: events loaded on earlier days, unchanged
(select * from recent order by random() limit $extra)  -- noqa: LT14
union all  -- delivered twice within this file
(select * from new_rows order by random() limit $extra)  -- noqa: LT14
union all  -- an id re-used with another session id: a conflicting payload
(
    select * replace (upper(session_id) as session_id)
    from recent
    order by random()
    limit $extra
)
