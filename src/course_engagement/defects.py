"""The data-quality defect classes the generator plants, and what each one means exactly.

`data/manifest.json` records the count of every class under these keys. The definitions are
written so that a SQL query over the raw tables can recount each one independently; the dbt
quality models and the tests do exactly that. All comparisons on categorical values are made on
`lower(trim(value))`; "latest version" of a user means the row with the greatest `updatedAt`,
a tie broken by value as `int_users__current` breaks it (never by row position; the generator
never writes a tie).
"""

from __future__ import annotations

DEFECTS: dict[str, str] = {
    # users
    "user_older_versions": (
        "User rows that are not the latest version of their id: rows minus distinct ids."
    ),
    "users_deleted_latest_with_live_older": (
        "Distinct users whose latest version is deleted (deleted = TRUE) while at least one "
        "older version is not deleted."
    ),
    "users_restored": (
        "Distinct users whose latest version is not deleted while at least one older version is."
    ),
    # categorical fields: empty (NULL or blank after trim) and variants (non-empty, differs from
    # the contract's spelling but equals it after trim + lower-case)
    "users_state_empty": "User rows whose state is NULL or blank.",
    "users_state_variant": "User rows whose state is a whitespace/case variant of a valid state.",
    "courses_category_empty": "Course rows whose category_name is NULL or blank.",
    "courses_category_variant": (
        "Course rows whose category_name has leading/trailing whitespace or differs in case "
        "from the catalogue's spelling of that category."
    ),
    "courses_level_empty": "Course rows whose level is NULL or blank.",
    "courses_level_variant": "Course rows whose level is a whitespace/case variant.",
    "enrolments_status_empty": (
        "Enrolment rows whose status is NULL or blank (such an enrolment is not cancelled)."
    ),
    "enrolments_status_variant": "Enrolment rows whose status is a whitespace/case variant.",
    "events_type_variant": (
        "Event rows whose event_type is a whitespace/case variant of a valid type."
    ),
    # enrolments
    "enrolments_cancelled": "Enrolment rows whose status is cancelled (after trim + lower).",
    "enrolments_duplicate_user_course": (
        "Enrolment rows beyond the first for the same (user_id, course_id): "
        "rows minus distinct pairs."
    ),
    "enrolments_of_deleted_users": "Enrolment rows whose user's latest version is deleted.",
    # events: row-level, before de-duplication
    "events_exact_duplicates": "Event rows identical in every column to an earlier row.",
    "events_id_conflicts": (
        "Event rows that share an id with another row but differ in payload (the generator "
        "varies session_id): distinct rows minus distinct ids."
    ),
    # events: one per id (after de-duplication); the classes below are disjoint
    "events_empty_timestamp": "Events with no event_timestamp.",
    "events_future": "Events timestamped after the end of --end-date (clock skew).",
    "events_unknown_type": "Events whose event_type is not one of the seven valid types.",
    "events_unknown_user": "Events whose user_id has no row in users (course is known).",
    "events_unknown_course": "Events whose course_id is not in the catalogue (user is known).",
    "events_without_enrolment": (
        "Events of a known user and course with no enrolment row at all for that pair."
    ),
    "events_on_cancelled_enrolment": (
        "Events of a known, not-deleted user whose every enrolment in that course is cancelled."
    ),
    "events_before_enrolment": (
        "Events timestamped before the earliest not-cancelled enrolment of that user "
        "in that course."
    ),
}
