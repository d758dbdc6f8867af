{#
    One row per user version (raw users row), without names or emails. Versions are ordered
    from the latest: greatest updated_at (null sorts oldest); ties on updated_at (none in
    generated data) are broken on values only, never on load order (the loader does not keep
    file order): a deleted version wins (if the export says a user was deleted at that
    moment, we believe it), then state, email, full name, sign-up date and gov flag
    ascending, nulls last. Versions equal on all of these are identical in every column we
    publish, so which one wins changes nothing. The first in that order is the current version
    (is_current); a user is deleted when it says so: deleted flag true, or state 'deleted'.

    A version is valid from its updated_at (null: from the start) to the next version's
    updated_at, exclusive; the current version's valid_to is null.
#}
with

users as (

    select * from {{ ref('base_raw__users') }}

),

deletions as (

    -- a column of its own before the window orders by it (Spark orders no window by an alias
    -- of the same select)
    select
        *,
        is_deleted or coalesce(user_state = 'deleted', false) as is_version_deleted
    from users

),

versions as (

    select
        *,
        row_number() over latest_first as version_rank,
        lag(updated_at) over latest_first as next_updated_at
    from deletions
    window latest_first as (
        partition by user_id
        order by
            updated_at desc nulls last,
            is_version_deleted desc,
            user_state asc nulls last,
            email asc nulls last,
            full_name asc nulls last,
            signed_up_date asc nulls last,
            is_gov_employee asc nulls last
    )

),

history as (

    select
        user_id,
        count(*) as version_count,
        coalesce(bool_or(is_version_deleted) filter (where version_rank > 1), false)
            as has_deleted_older_version,
        coalesce(bool_or(not is_deleted) filter (where version_rank > 1), false)
            as has_older_version_not_flagged_deleted,
        coalesce(bool_or(is_deleted) filter (where version_rank > 1), false)
            as has_older_version_flagged_deleted,
        bool_or(is_version_deleted) filter (where version_rank = 1) as is_current_deleted
    from versions
    group by user_id

),

final as (

    select
        versions.user_id,
        cast(history.version_count - versions.version_rank + 1 as bigint) as version_number,
        versions.user_state,
        versions.is_gov_employee,
        versions.is_version_deleted as is_deleted,
        versions.is_deleted as is_flagged_deleted,
        versions.signed_up_date,
        versions.updated_at,
        versions.updated_at as valid_from,
        versions.next_updated_at as valid_to,
        versions.version_rank = 1 as is_current,
        history.version_count,
        history.has_deleted_older_version,
        not history.is_current_deleted
        and history.has_deleted_older_version as is_restored,
        history.has_older_version_not_flagged_deleted,
        history.has_older_version_flagged_deleted
    from versions
    inner join history
        on versions.user_id = history.user_id

)

select * from final
