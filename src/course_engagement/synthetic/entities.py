"""Users (with their version history), courses and enrolments, held in memory: a few million
rows at most, with the per-id arrays the event generator draws from."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from course_engagement.synthetic.config import (
    CATEGORIES,
    DAY,
    FIRST_NAMES,
    LAST_NAMES,
    LEVELS,
    PUBLISHERS,
    QUALIFIERS,
    TOPICS,
    USER_STATES_LIVE,
    GeneratorConfig,
    epoch_seconds,
    mutate_categorical,
    planted,
    random_hours,
    rng_for,
)


@dataclass
class Users:
    table: pa.Table
    n_ids: int
    is_live: np.ndarray  # indexed by user id (0 unused): latest version not deleted
    activity: np.ndarray  # indexed by user id: relative activity (log-normal)
    signup_s: np.ndarray  # indexed by user id: signup date in epoch seconds


def _user_versions(
    rng: np.random.Generator, config: GeneratorConfig, signup_s: np.ndarray, end_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every version row of every user: (user index, update time, is deleted), and the users
    whose latest version is deleted. Some users are deleted, some restored, some just changed."""
    n = config.users
    order = rng.permutation(n)
    n_deleted = planted(config, "users_deleted_latest_with_live_older", n)
    n_restored = planted(config, "users_restored", n)
    n_multi = planted(config, "user_older_versions", n)
    deleted_users = order[:n_deleted]
    restored_users = order[n_deleted : n_deleted + n_restored]
    multi_users = order[n_deleted + n_restored : n_deleted + n_restored + n_multi]

    versions = np.ones(n, dtype=np.int64)
    versions[deleted_users] = rng.integers(2, 4, size=n_deleted)
    versions[restored_users] = rng.integers(2, 4, size=n_restored)
    versions[multi_users] = rng.integers(2, 4, size=n_multi)

    rows_user = np.repeat(np.arange(n), versions)
    version_index = np.concatenate([np.arange(v) for v in versions]) if n else np.array([], int)
    is_latest = version_index == versions[rows_user] - 1
    # Versions spread between signup and the end date, strictly increasing and never tied.
    span = end_s - signup_s[rows_user]
    updated = signup_s[rows_user] + (span * (version_index + 1)) // (versions[rows_user] + 1)
    updated = updated + rng.integers(0, 3_600, size=len(rows_user)) + version_index

    deleted = np.zeros(len(rows_user), dtype=bool)
    deleted_mask = np.isin(rows_user, deleted_users) & is_latest
    deleted[deleted_mask] = True
    restored_mask = np.isin(rows_user, restored_users) & (version_index == versions[rows_user] - 2)
    deleted[restored_mask] = True
    return rows_user, updated, deleted, deleted_users


def generate_users(config: GeneratorConfig) -> Users:
    rng = rng_for(config, 1)
    n = config.users
    ids = np.arange(1, n + 1)
    start_s, end_s = epoch_seconds(config.start_date), epoch_seconds(config.end_date)
    signup_day = rng.integers((start_s - 2 * 365 * DAY) // DAY, end_s // DAY - 30, size=n)
    signup_s = signup_day * DAY
    rows_user, updated, deleted, deleted_users = _user_versions(rng, config, signup_s, end_s)

    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    states = rng.choice(USER_STATES_LIVE, size=len(rows_user), p=[0.8, 0.12, 0.08]).tolist()
    for row in np.flatnonzero(deleted):
        states[row] = "deleted"
    gov = rng.random(n) < 0.12
    mutate_categorical(
        rng,
        states,
        planted(config, "users_state_empty", len(states)),
        planted(config, "users_state_variant", len(states)),
        np.flatnonzero(~deleted),
    )

    # An export of changes: rows in the order they were updated.
    file_order = np.argsort(updated, kind="stable")
    user_index = rows_user[file_order]
    table = pa.table(
        {
            "id": pa.array(ids[user_index]),
            "fullName": pa.array([f"{first[u]} {last[u]}" for u in user_index]),
            "email": pa.array(
                [f"{first[u]}.{last[u]}{u + 1}@example.org".lower() for u in user_index]
            ),
            "signupDate": pa.array(signup_day[user_index].astype("datetime64[D]")),
            "state": pa.array([states[row] for row in file_order]),
            "isGovEmployee": pa.array(gov[user_index]),
            "updatedAt": pa.array(updated[file_order].astype("datetime64[s]")),
            "deleted": pa.array(np.where(deleted[file_order], "TRUE", "")),
        }
    )
    is_live = np.ones(n + 1, dtype=bool)
    is_live[0] = False
    is_live[deleted_users + 1] = False
    activity = np.concatenate([[0.0], rng.lognormal(0.0, 1.2, size=n)])
    return Users(table, n, is_live, activity, np.concatenate([[0], signup_s]))


@dataclass
class Courses:
    table: pa.Table
    n_ids: int
    popularity: np.ndarray  # indexed by course id (0 unused)
    created_s: np.ndarray  # indexed by course id
    launched: np.ndarray  # indexed by course id: open for enrolment before the end date


def generate_courses(config: GeneratorConfig) -> Courses:
    rng = rng_for(config, 2)
    n = config.courses
    start_s, end_s = epoch_seconds(config.start_date), epoch_seconds(config.end_date)
    titles, seen = [], Counter()
    for _ in range(n):
        title = f"{rng.choice(QUALIFIERS)} {rng.choice(TOPICS)}"
        seen[title] += 1
        titles.append(title if seen[title] == 1 else f"{title} {seen[title]}")
    categories = rng.choice(CATEGORIES, size=n).tolist()
    levels = rng.choice(LEVELS, size=n, p=[0.45, 0.35, 0.2]).tolist()
    created_day = rng.integers((start_s - 3 * 365 * DAY) // DAY, start_s // DAY + 200, size=n)
    # The newest few courses launched days ago and nobody has enrolled yet.
    n_new = max(1, n // 30)
    created_day[-n_new:] = end_s // DAY - rng.integers(0, 5, size=n_new)
    launched = np.concatenate([[False], created_day < end_s // DAY - 7])
    everyone = np.arange(n)
    mutate_categorical(
        rng,
        categories,
        planted(config, "courses_category_empty", n),
        planted(config, "courses_category_variant", n),
        everyone,
    )
    mutate_categorical(
        rng,
        levels,
        planted(config, "courses_level_empty", n),
        planted(config, "courses_level_variant", n),
        everyone,
    )
    popularity = 1.0 / np.arange(1, n + 1) ** 1.1
    popularity = np.concatenate([[0.0], rng.permutation(popularity)])
    table = pa.table(
        {
            "course_id": pa.array(np.arange(1, n + 1)),
            "title": pa.array(titles),
            "category_name": pa.array(categories),
            "level": pa.array(levels),
            "publisher": pa.array(rng.choice(PUBLISHERS, size=n)),
            "course_created_at": pa.array(created_day.astype("datetime64[D]")),
        }
    )
    return Courses(table, n, popularity, np.concatenate([[0], created_day * DAY]), launched)


@dataclass
class Enrolments:
    table: pa.Table
    # one row per (user, course) pair with a not-cancelled enrolment and a live user
    valid_user: np.ndarray
    valid_course: np.ndarray
    valid_first_s: np.ndarray  # earliest not-cancelled enrolled_at of the pair
    valid_weight: np.ndarray
    # pairs whose every enrolment is cancelled, with a live user
    cancelled_user: np.ndarray
    cancelled_course: np.ndarray
    cancelled_at_s: np.ndarray
    pair_keys: np.ndarray  # sorted user * (courses + 1) + course of every enrolment


def pair_key(users: np.ndarray, courses: np.ndarray, n_courses: int) -> np.ndarray:
    return users.astype(np.int64) * (n_courses + 1) + courses


def _enrolment_pairs(
    rng: np.random.Generator, users: Users, courses: Courses, n_unique: int
) -> tuple[np.ndarray, np.ndarray]:
    """`n_unique` distinct (user, course) pairs, active users and popular launched courses first."""
    user_p = users.activity[1:] / users.activity[1:].sum()
    course_weight = courses.popularity[1:] * courses.launched[1:]
    course_p = course_weight / course_weight.sum()
    max_pairs = users.n_ids * int(courses.launched.sum())
    if n_unique > max_pairs:
        raise ValueError(f"{n_unique} enrolments need more than {max_pairs} user/course pairs")

    keys = np.empty(0, dtype=np.int64)
    while len(keys) < n_unique:
        batch = max(1_000, 2 * (n_unique - len(keys)))
        u = rng.choice(users.n_ids, size=batch, p=user_p) + 1
        c = rng.choice(courses.n_ids, size=batch, p=course_p) + 1
        new = pair_key(u, c, courses.n_ids)
        _, first = np.unique(np.concatenate([keys, new]), return_index=True)
        keys = np.concatenate([keys, new])[np.sort(first)]
    keys = keys[:n_unique]
    return keys // (courses.n_ids + 1), keys % (courses.n_ids + 1)


def _enrolment_times(
    rng: np.random.Generator,
    config: GeneratorConfig,
    users: Users,
    courses: Courses,
    user_id: np.ndarray,
    course_id: np.ndarray,
) -> tuple[np.ndarray, int]:
    """When each pair enrolled (after signup and course creation), and the latest time allowed."""
    n_unique = len(user_id)
    lo = np.maximum(users.signup_s[user_id], courses.created_s[course_id]) + DAY
    lo = np.maximum(lo, epoch_seconds(config.start_date) - 180 * DAY)
    hi = epoch_seconds(config.end_date) - DAY
    lo = np.minimum(lo, hi - DAY)
    # Skewed towards earlier dates: most learners enrolled a while ago.
    day_offset = ((hi - lo) // DAY * rng.random(n_unique) ** 1.6).astype(np.int64)
    enrolled = lo - lo % DAY + day_offset * DAY + random_hours(rng, n_unique) * 3_600
    enrolled += rng.integers(0, 3_600, size=n_unique)
    return np.minimum(enrolled, hi), hi


def _valid_and_cancelled(
    table: pa.Table,
    users: Users,
    courses: Courses,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    is_cancelled: np.ndarray,
) -> Enrolments:
    """What the event generator needs: the pairs a live user holds a not-cancelled enrolment
    in (and since when), and the pairs whose every enrolment is cancelled."""
    all_user, all_course, all_enrolled = rows
    live = users.is_live[all_user]
    pair = pair_key(all_user, all_course, courses.n_ids)
    valid_rows = live & ~is_cancelled
    valid_keys, inverse = np.unique(pair[valid_rows], return_inverse=True)
    first_s = np.full(len(valid_keys), np.iinfo(np.int64).max)
    np.minimum.at(first_s, inverse, all_enrolled[valid_rows])
    v_user, v_course = valid_keys // (courses.n_ids + 1), valid_keys % (courses.n_ids + 1)

    cancelled_only = live & is_cancelled & ~np.isin(pair, valid_keys)
    c_keys, c_first = np.unique(pair[cancelled_only], return_index=True)
    return Enrolments(
        table=table,
        valid_user=v_user,
        valid_course=v_course,
        valid_first_s=first_s,
        valid_weight=users.activity[v_user] * courses.popularity[v_course],
        cancelled_user=c_keys // (courses.n_ids + 1),
        cancelled_course=c_keys % (courses.n_ids + 1),
        cancelled_at_s=all_enrolled[cancelled_only][c_first],
        pair_keys=np.unique(pair),
    )


def generate_enrolments(config: GeneratorConfig, users: Users, courses: Courses) -> Enrolments:
    rng = rng_for(config, 3)
    n_duplicates = planted(config, "enrolments_duplicate_user_course", config.enrolments)
    n_unique = config.enrolments - n_duplicates
    user_id, course_id = _enrolment_pairs(rng, users, courses, n_unique)
    enrolled, hi = _enrolment_times(rng, config, users, courses, user_id, course_id)

    statuses = rng.choice(["active", "completed"], size=n_unique, p=[0.7, 0.3]).astype(object)
    n_cancelled = planted(config, "enrolments_cancelled", config.enrolments)
    order = rng.permutation(n_unique)
    statuses[order[:n_cancelled]] = "cancelled"
    duplicated = order[n_cancelled : n_cancelled + n_duplicates]

    dup_enrolled = enrolled[duplicated] + (hi - enrolled[duplicated]) // 2
    all_user = np.concatenate([user_id, user_id[duplicated]])
    all_course = np.concatenate([course_id, course_id[duplicated]])
    all_enrolled = np.concatenate([enrolled, dup_enrolled])
    all_status = np.concatenate([statuses, np.full(n_duplicates, "active", dtype=object)]).tolist()

    is_cancelled = np.array([status == "cancelled" for status in all_status])
    mutate_categorical(
        rng,
        all_status,
        planted(config, "enrolments_status_empty", config.enrolments),
        0,
        np.flatnonzero(~is_cancelled),
    )
    mutate_categorical(
        rng,
        all_status,
        0,
        planted(config, "enrolments_status_variant", config.enrolments),
        np.flatnonzero(np.array([status != "" and status.strip() != "" for status in all_status])),
    )

    file_order = np.lexsort((all_course, all_user, all_enrolled))
    table = pa.table(
        {
            "enrolment_id": pa.array(np.arange(1, len(file_order) + 1)),
            "user_id": pa.array(all_user[file_order]),
            "course_id": pa.array(all_course[file_order]),
            "enrolled_at": pa.array(all_enrolled[file_order].astype("datetime64[s]")),
            "status": pa.array([all_status[row] for row in file_order]),
        }
    )
    rows = (all_user, all_course, all_enrolled)
    return _valid_and_cancelled(table, users, courses, rows, is_cancelled)
