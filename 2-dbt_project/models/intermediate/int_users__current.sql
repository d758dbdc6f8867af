{#
    One row per user id: the latest version. Latest = greatest updated_at (null sorts
    oldest). Ties on updated_at (none in generated data) are broken on values only, never on
    load order (the loader does not keep file order): a deleted version wins (if the export
    says a user was deleted at that moment, we believe it), then state, email, full name,
    sign-up date and gov flag ascending, nulls last. Versions equal on all of these are
    identical in every column we publish, so which one wins changes nothing. A user is
    deleted when the latest version says so: deleted flag true, or state 'deleted'.
#}
with

users as (

    select * from {{ ref('base_raw__users') }}

),

versions as (

    select
        *,
        is_deleted or coalesce(user_state = 'deleted', false) as is_version_deleted,
        row_number() over (
            partition by user_id
            order by
                updated_at desc nulls last,
                is_version_deleted desc,
                user_state asc nulls last,
                email asc nulls last,
                full_name asc nulls last,
                signed_up_date asc nulls last,
                is_gov_employee asc nulls last
        ) as version_rank
    from users

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
            as has_older_version_flagged_deleted
    from versions
    group by user_id

),

current_versions as (

    select
        versions.user_id,
        versions.full_name,
        versions.email,
        versions.user_state,
        versions.is_gov_employee,
        versions.is_version_deleted as is_deleted,
        versions.is_deleted as is_flagged_deleted,
        versions.signed_up_date,
        versions.updated_at,
        history.version_count,
        history.has_deleted_older_version,
        not versions.is_version_deleted
        and history.has_deleted_older_version as is_restored,
        history.has_older_version_not_flagged_deleted,
        history.has_older_version_flagged_deleted
    from versions
    inner join history
        on versions.user_id = history.user_id
    where versions.version_rank = 1

)

select * from current_versions
