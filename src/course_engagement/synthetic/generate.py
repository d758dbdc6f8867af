"""Seeded synthetic raw exports that look, and misbehave, like a real learning platform's.

Shape: course popularity is Zipf-like and user activity log-normal (a few hit courses and power
users); activity follows a weekday and working-hour rhythm; events come in sessions (one
`session_id` for a burst of events minutes apart) that follow sensible sequences (a
`video_complete` after its `video_start`, a `quiz_submit` after its `quiz_start`); organic
activity always starts after the learner's first valid enrolment.

Defects: every class in `synthetic.defects.DEFECTS` is planted at a configurable rate
(at least three of each whenever the rate is positive) and counted exactly into
`manifest.json`. Planted event defects are disjoint by construction, so each one can be
recounted independently from the files with the definitions in `defects.py`.

Scale: users, courses and enrolments live in memory (tens of millions at most); events are
generated and written one day at a time, so 100M events never sit in memory together. Every
random draw comes from a generator seeded with (seed, stream), which makes the output
byte-identical for the same arguments whatever the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from tqdm import tqdm

from course_engagement.contract import (
    COURSES,
    ENROLMENTS,
    EVENT_TYPES,
    EVENTS,
    USERS,
    RawTable,
)
from course_engagement.synthetic.defects import DEFECTS

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)

FIRST_NAMES = (
    "Ada Alan Amara Ben Chloe Dev Elena Farah Grace Hugo Ines Jamal Kai Lena Mateo Nia Omar "
    "Priya Quinn Rosa Sam Tariq Uma Vera Wen Xavier Yara Zoe"
).split()
LAST_NAMES = (
    "Okafor Smith Nguyen Garcia Khan Muller Rossi Silva Tanaka Kowalski Haddad Brown Novak "
    "Dubois Ivanova Mensah Park Costa Jensen Walsh"
).split()
CATEGORIES = (
    "Data Science",
    "Cloud Computing",
    "Leadership",
    "Cyber Security",
    "Project Management",
    "Design",
    "Policy",
    "Digital Skills",
)
TOPICS = (
    "Python",
    "SQL",
    "Statistics",
    "Networking",
    "Negotiation",
    "Agile Delivery",
    "User Research",
    "Risk",
    "Procurement",
    "Accessibility",
    "Machine Learning",
    "Budgeting",
    "Writing",
    "Cloud Security",
    "Data Ethics",
)
QUALIFIERS = ("Foundations of", "Practical", "Advanced", "Applied", "Introduction to", "Mastering")
PUBLISHERS = (
    "Civil Service College",
    "Open Learning Co",
    "Academy North",
    "TechSkills",
    "GovDigital",
)
LEVELS = ("Beginner", "Intermediate", "Advanced")
UNKNOWN_EVENT_TYPES = ("video_pause", "scorm_launch", "certificate_view", "forum_post")
STANDALONE_TYPES = ("page_view", "video_start", "quiz_start", "download", "other")
USER_STATES_LIVE = ("active", "pending", "suspended")

# A session is one of these sequences; an unfinished one (cut at the end of a day's quota) is
# realistic too: people close the tab.
SESSION_TEMPLATES: tuple[tuple[str, ...], ...] = (
    ("page_view", "video_start", "video_complete"),
    ("video_start", "video_complete", "quiz_start", "quiz_submit"),
    ("page_view", "download"),
    ("quiz_start", "quiz_submit"),
    ("page_view", "video_start", "video_complete", "video_start", "video_complete"),
    ("page_view", "video_start"),
    ("page_view", "other"),
    ("page_view",),
)
TEMPLATE_WEIGHTS = np.array([0.24, 0.18, 0.10, 0.12, 0.10, 0.10, 0.06, 0.10])
# Hour-of-day weights (UTC): quiet nights, a working-day plateau and an evening shoulder.
HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 6, 10, 14, 15, 14, 12, 13, 14, 14, 12, 9, 8, 8, 7, 5, 3, 0], float
)
WEEKDAY_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.5, 0.45])  # Monday first

SESSION_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
SESSION_SPACE = 36**6
SESSION_MULTIPLIER = 1_299_709  # prime, coprime with 36**6: n -> n * m mod 36**6 is a bijection


@dataclass(frozen=True)
class GeneratorConfig:
    users: int = 1_000
    courses: int = 60
    enrolments: int = 3_000
    events: int = 20_000
    seed: int = 42
    end_date: dt.date = dt.date(2026, 10, 31)
    days: int = 365
    defect_rate: float = 0.01
    defect_rates: dict[str, float] = field(default_factory=dict)
    file_format: str = "csv"

    def rate(self, defect: str) -> float:
        return self.defect_rates.get(defect, self.defect_rate)

    @property
    def start_date(self) -> dt.date:
        return self.end_date - dt.timedelta(days=self.days - 1)


def planted(config: GeneratorConfig, defect: str, population: int) -> int:
    """How many of one defect class to plant: the rate times its population, at least three."""
    rate = config.rate(defect)
    if rate <= 0 or population <= 0:
        return 0
    return min(population, max(3, round(rate * population)))


def _epoch_seconds(day: dt.date) -> int:
    return (day - EPOCH).days * DAY


def _rng(config: GeneratorConfig, *stream: int) -> np.random.Generator:
    return np.random.default_rng([config.seed, *stream])


def _session_codes(numbers: np.ndarray) -> pa.Array:
    """Six lowercase alphanumerics per session number, unique and random-looking."""
    scrambled = (numbers.astype(np.int64) * SESSION_MULTIPLIER + 7_919) % SESSION_SPACE
    digits = np.empty((len(numbers), 6), dtype=np.uint8)
    for position in range(5, -1, -1):
        digits[:, position] = SESSION_ALPHABET[scrambled % 36]
        scrambled //= 36
    return pa.array(digits.view("S6").ravel()).cast(pa.string())


def _hours(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.choice(24, size=size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())


def _variant(rng: np.random.Generator, value: str) -> str:
    """A whitespace or case variant that normalises back to `value`."""
    options = (f" {value}", f"{value} ", value.upper(), value.lower(), f"  {value.title()} ")
    choices = [option for option in options if option != value]
    return choices[int(rng.integers(len(choices)))]


def _mutate_categorical(
    rng: np.random.Generator, values: list[str], n_empty: int, n_variant: int, eligible: np.ndarray
) -> None:
    """Blank `n_empty` and vary `n_variant` distinct rows among `eligible`, in place."""
    picked = rng.choice(eligible, size=min(len(eligible), n_empty + n_variant), replace=False)
    for row in picked[:n_empty]:
        values[row] = rng.choice(["", "   "]).item()
    for row in picked[n_empty:]:
        values[row] = _variant(rng, values[row])


# --------------------------------------------------------------------------- users


@dataclass
class Users:
    table: pa.Table
    n_ids: int
    is_live: np.ndarray  # indexed by user id (0 unused): latest version not deleted
    activity: np.ndarray  # indexed by user id: relative activity (log-normal)
    signup_s: np.ndarray  # indexed by user id: signup date in epoch seconds


def generate_users(config: GeneratorConfig) -> Users:
    rng = _rng(config, 1)
    n = config.users
    ids = np.arange(1, n + 1)
    start_s, end_s = _epoch_seconds(config.start_date), _epoch_seconds(config.end_date)
    signup_day = rng.integers((start_s - 2 * 365 * DAY) // DAY, end_s // DAY - 30, size=n)
    signup_s = signup_day * DAY

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

    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    states = rng.choice(USER_STATES_LIVE, size=len(rows_user), p=[0.8, 0.12, 0.08]).tolist()
    for row in np.flatnonzero(deleted):
        states[row] = "deleted"
    gov = rng.random(n) < 0.12
    _mutate_categorical(
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


# --------------------------------------------------------------------------- courses


@dataclass
class Courses:
    table: pa.Table
    n_ids: int
    popularity: np.ndarray  # indexed by course id (0 unused)
    created_s: np.ndarray  # indexed by course id
    launched: np.ndarray  # indexed by course id: open for enrolment before the end date


def generate_courses(config: GeneratorConfig) -> Courses:
    rng = _rng(config, 2)
    n = config.courses
    start_s, end_s = _epoch_seconds(config.start_date), _epoch_seconds(config.end_date)
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
    _mutate_categorical(
        rng,
        categories,
        planted(config, "courses_category_empty", n),
        planted(config, "courses_category_variant", n),
        everyone,
    )
    _mutate_categorical(
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


# --------------------------------------------------------------------------- enrolments


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


def _pair_key(users: np.ndarray, courses: np.ndarray, n_courses: int) -> np.ndarray:
    return users.astype(np.int64) * (n_courses + 1) + courses


def generate_enrolments(config: GeneratorConfig, users: Users, courses: Courses) -> Enrolments:
    rng = _rng(config, 3)
    end_s = _epoch_seconds(config.end_date)
    n_duplicates = planted(config, "enrolments_duplicate_user_course", config.enrolments)
    n_unique = config.enrolments - n_duplicates
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
        new = _pair_key(u, c, courses.n_ids)
        _, first = np.unique(np.concatenate([keys, new]), return_index=True)
        keys = np.concatenate([keys, new])[np.sort(first)]
    keys = keys[:n_unique]
    user_id, course_id = keys // (courses.n_ids + 1), keys % (courses.n_ids + 1)

    lo = np.maximum(users.signup_s[user_id], courses.created_s[course_id]) + DAY
    lo = np.maximum(lo, _epoch_seconds(config.start_date) - 180 * DAY)
    hi = end_s - DAY
    lo = np.minimum(lo, hi - DAY)
    # Skewed towards earlier dates: most learners enrolled a while ago.
    day_offset = ((hi - lo) // DAY * rng.random(n_unique) ** 1.6).astype(np.int64)
    enrolled = lo - lo % DAY + day_offset * DAY + _hours(rng, n_unique) * 3_600
    enrolled += rng.integers(0, 3_600, size=n_unique)
    enrolled = np.minimum(enrolled, hi)

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
    _mutate_categorical(
        rng,
        all_status,
        planted(config, "enrolments_status_empty", config.enrolments),
        0,
        np.flatnonzero(~is_cancelled),
    )
    _mutate_categorical(
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

    live = users.is_live[all_user]
    pair = _pair_key(all_user, all_course, courses.n_ids)
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


# --------------------------------------------------------------------------- events


@dataclass
class EventBatch:
    """Columns of a batch of events, before ids are assigned. `sort_s` orders the file."""

    user: np.ndarray
    course: np.ndarray
    types: np.ndarray  # object array of strings
    ts: np.ndarray  # epoch seconds; meaningless where has_ts is False
    has_ts: np.ndarray
    session: np.ndarray  # session numbers
    metadata: np.ndarray  # object array of strings
    sort_s: np.ndarray

    @classmethod
    def concat(cls, batches: list[EventBatch]) -> EventBatch:
        return cls(
            *(
                np.concatenate([getattr(b, name) for b in batches])
                for name in cls.__dataclass_fields__
            )
        )

    def take(self, index: np.ndarray) -> EventBatch:
        return EventBatch(*(getattr(self, name)[index] for name in self.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.user)


def _metadata(rng: np.random.Generator, types: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    out = np.full(len(types), "none", dtype=object)
    prefixes = {
        "video_start": "video",
        "video_complete": "video",
        "page_view": "page",
        "download": "asset",
    }
    for event_type, prefix in prefixes.items():
        rows = types == event_type
        out[rows] = [f"{prefix}:{number}" for number in numbers[rows]]
    out[types == "quiz_start"] = "quiz:attempt"
    submits = np.flatnonzero(types == "quiz_submit")
    out[submits] = np.where(rng.random(len(submits)) < 0.72, "quiz:pass", "quiz:fail")
    return out


def _sessions(
    rng: np.random.Generator,
    n_events: int,
    day_s: int,
    pair_index_pool: np.ndarray,
    pair_cdf: np.ndarray,
    enrolments: Enrolments,
) -> EventBatch:
    """Organic sessions for one day, exactly `n_events` events long in total."""
    lengths_by_template = np.array([len(t) for t in SESSION_TEMPLATES])
    expected = int(n_events / (lengths_by_template @ TEMPLATE_WEIGHTS)) + 8
    templates = rng.choice(len(SESSION_TEMPLATES), size=expected, p=TEMPLATE_WEIGHTS)
    while lengths_by_template[templates].sum() < n_events:
        more = rng.choice(len(SESSION_TEMPLATES), size=expected, p=TEMPLATE_WEIGHTS)
        templates = np.concatenate([templates, more])
    lengths = lengths_by_template[templates]
    n_sessions = int(np.searchsorted(np.cumsum(lengths), n_events) + 1)
    templates, lengths = templates[:n_sessions], lengths[:n_sessions]

    pairs = pair_index_pool[np.searchsorted(pair_cdf, rng.random(n_sessions) * pair_cdf[-1])]
    start = day_s + _hours(rng, n_sessions) * 3_600 + rng.integers(0, 3_600, size=n_sessions)
    session_of = np.repeat(np.arange(n_sessions), lengths)[:n_events]
    step = np.arange(len(session_of)) - np.repeat(np.cumsum(lengths) - lengths, lengths)[:n_events]
    gaps = np.where(step == 0, 0, rng.integers(20, 480, size=len(step)))
    elapsed = np.cumsum(gaps)
    offsets = elapsed - elapsed[(np.cumsum(lengths) - lengths)[session_of]]
    flat_templates = np.array([t for template in SESSION_TEMPLATES for t in template], dtype=object)
    template_start = np.concatenate([[0], np.cumsum(lengths_by_template)[:-1]])
    types = flat_templates[template_start[templates[session_of]] + step]
    ts = start[session_of] + offsets
    item = rng.integers(1, 25, size=n_sessions)[session_of]
    return EventBatch(
        user=enrolments.valid_user[pairs][session_of],
        course=enrolments.valid_course[pairs][session_of],
        types=types,
        ts=ts,
        has_ts=np.ones(len(ts), dtype=bool),
        session=session_of.astype(np.int64),  # renumbered globally by the caller
        metadata=_metadata(rng, types, item),
        sort_s=ts,
    )


def _single_events(
    rng: np.random.Generator, user: np.ndarray, course: np.ndarray, ts: np.ndarray
) -> EventBatch:
    """Stand-alone planted events: types that can open a session, with plausible metadata."""
    types = rng.choice(STANDALONE_TYPES, size=len(user)).astype(object)
    return EventBatch(
        user=user.astype(np.int64),
        course=course.astype(np.int64),
        types=types,
        ts=ts.astype(np.int64),
        has_ts=np.ones(len(user), dtype=bool),
        session=np.arange(len(user), dtype=np.int64),
        metadata=_metadata(rng, types, rng.integers(1, 25, size=len(user))),
        sort_s=ts.astype(np.int64),
    )


def _between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (rng.random(len(lo)) * np.maximum(hi - lo, 1)).astype(np.int64)


def plant_event_defects(
    config: GeneratorConfig, users: Users, courses: Courses, enrolments: Enrolments
) -> tuple[dict[str, EventBatch], dict[str, int]]:
    """The planted (non-organic, non-duplicate) event defects, each class disjoint from the rest."""
    rng = _rng(config, 4)
    start_s, end_s = _epoch_seconds(config.start_date), _epoch_seconds(config.end_date) + DAY
    n = config.events
    live_users = np.flatnonzero(users.is_live)
    valid = np.arange(len(enrolments.valid_user))
    batches: dict[str, EventBatch] = {}

    def valid_pairs(k: int) -> np.ndarray:
        return rng.choice(valid, size=k)

    def after_enrolment(pairs: np.ndarray) -> np.ndarray:
        lo = np.maximum(enrolments.valid_first_s[pairs] + 60, start_s)
        return _between(rng, lo, np.full(len(pairs), end_s - 3_600))

    k = planted(config, "events_before_enrolment", n)
    eligible = np.flatnonzero(enrolments.valid_first_s > start_s + 2 * DAY)
    pairs = rng.choice(eligible, size=k) if len(eligible) else valid_pairs(0)
    first = enrolments.valid_first_s[pairs]
    ts = _between(rng, np.maximum(first - 14 * DAY, start_s), first - 60)
    batches["events_before_enrolment"] = _single_events(
        rng, enrolments.valid_user[pairs], enrolments.valid_course[pairs], ts
    )

    k = planted(config, "events_on_cancelled_enrolment", n)
    if len(enrolments.cancelled_user) and k:
        rows = rng.choice(len(enrolments.cancelled_user), size=k)
        lo = np.maximum(enrolments.cancelled_at_s[rows] + 3_600, start_s)
        batches["events_on_cancelled_enrolment"] = _single_events(
            rng,
            enrolments.cancelled_user[rows],
            enrolments.cancelled_course[rows],
            _between(rng, lo, np.full(k, end_s - 3_600)),
        )

    k = planted(config, "events_without_enrolment", n)
    found_u, found_c = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    while sum(map(len, found_u)) < k:
        u = rng.choice(live_users, size=4 * k)
        c = rng.integers(1, courses.n_ids + 1, size=4 * k)
        key = _pair_key(u, c, courses.n_ids)
        position = np.clip(
            np.searchsorted(enrolments.pair_keys, key), 0, len(enrolments.pair_keys) - 1
        )
        free = enrolments.pair_keys[position] != key
        found_u.append(u[free])
        found_c.append(c[free])
    u, c = np.concatenate(found_u)[:k], np.concatenate(found_c)[:k]
    batches["events_without_enrolment"] = _single_events(
        rng, u, c, _between(rng, np.full(k, start_s), np.full(k, end_s - 3_600))
    )

    k = planted(config, "events_unknown_user", n)
    batches["events_unknown_user"] = _single_events(
        rng,
        users.n_ids + rng.integers(1, 500, size=k),
        rng.integers(1, courses.n_ids + 1, size=k),
        _between(rng, np.full(k, start_s), np.full(k, end_s - 3_600)),
    )

    k = planted(config, "events_unknown_course", n)
    batches["events_unknown_course"] = _single_events(
        rng,
        rng.choice(live_users, size=k),
        courses.n_ids + rng.integers(1, 50, size=k),
        _between(rng, np.full(k, start_s), np.full(k, end_s - 3_600)),
    )

    k = planted(config, "events_unknown_type", n)
    pairs = valid_pairs(k)
    batch = _single_events(
        rng, enrolments.valid_user[pairs], enrolments.valid_course[pairs], after_enrolment(pairs)
    )
    batch.types = rng.choice(UNKNOWN_EVENT_TYPES, size=k).astype(object)
    batch.metadata = np.full(k, "none", dtype=object)
    batches["events_unknown_type"] = batch

    k = planted(config, "events_empty_timestamp", n)
    pairs = valid_pairs(k)
    batch = _single_events(
        rng, enrolments.valid_user[pairs], enrolments.valid_course[pairs], after_enrolment(pairs)
    )
    batch.has_ts = np.zeros(k, dtype=bool)
    batches["events_empty_timestamp"] = batch

    k = planted(config, "events_future", n)
    pairs = valid_pairs(k)
    batches["events_future"] = _single_events(
        rng,
        enrolments.valid_user[pairs],
        enrolments.valid_course[pairs],
        end_s + rng.integers(60, 3 * DAY, size=k),
    )
    counts = {name: 0 for name in DEFECTS if name.startswith("events_")}
    counts |= {name: len(batch) for name, batch in batches.items()}
    counts["events_exact_duplicates"] = planted(config, "events_exact_duplicates", n)
    counts["events_id_conflicts"] = planted(config, "events_id_conflicts", n)
    counts["events_type_variant"] = planted(config, "events_type_variant", n)
    return batches, counts


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    parts = np.floor(exact).astype(np.int64)
    remainder = total - parts.sum()
    parts[np.argsort(-(exact - parts), kind="stable")[:remainder]] += 1
    return parts


class EventWriter:
    """Writes event batches in file order, numbering ids and sessions as it goes."""

    def __init__(self, path: Path, file_format: str) -> None:
        self.path = path
        self.file_format = file_format
        self.next_id = 1
        self.next_session = 0
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._handle = None
        if file_format == "csv":
            self._handle = path.open("wb")
            self._handle.write((EVENTS.header + "\n").encode())

    def write(self, rows: pa.Table) -> None:
        self.rows += rows.num_rows
        if self.file_format == "csv":
            _write_csv_rows(rows, self._handle)
        else:
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, _parquet_schema(EVENTS))
            self._writer.write_table(rows.cast(_parquet_schema(EVENTS)))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._writer is not None:
            self._writer.close()
        elif self.file_format == "parquet":
            pq.write_table(_empty_table(EVENTS), self.path)


def _arrow_events(ids: np.ndarray, batch: EventBatch, session_codes: pa.Array) -> pa.Table:
    ts = pa.array(batch.ts.astype("datetime64[s]"), mask=~batch.has_ts)
    return pa.table(
        {
            "id": pa.array(ids),
            "user_id": pa.array(batch.user),
            "course_id": pa.array(batch.course),
            "event_type": pa.array(batch.types, pa.string()),
            "event_timestamp": ts,
            "session_id": session_codes,
            "metadata": pa.array(batch.metadata, pa.string()),
        }
    )


def generate_events(
    config: GeneratorConfig,
    users: Users,
    courses: Courses,
    enrolments: Enrolments,
    path: Path,
    progress: bool,
) -> dict[str, int]:
    planted_batches, counts = plant_event_defects(config, users, courses, enrolments)
    n_planted = sum(len(b) for b in planted_batches.values())
    n_dup, n_conflict = counts["events_exact_duplicates"], counts["events_id_conflicts"]
    n_organic = config.events - n_planted - n_dup - n_conflict
    if n_organic < 0:
        raise ValueError(f"--events {config.events} is too small for the planted defects")

    start_s = _epoch_seconds(config.start_date)
    days = np.arange(config.days)
    day_starts = start_s + days * DAY
    order = np.argsort(enrolments.valid_first_s, kind="stable")
    first_sorted = enrolments.valid_first_s[order]
    weight_cdf = np.cumsum(enrolments.valid_weight[order])
    eligible = np.searchsorted(first_sorted, day_starts)  # pairs enrolled before each day starts
    eligible_weight = np.where(eligible > 0, weight_cdf[np.maximum(eligible - 1, 0)], 0.0)
    weekday = np.array([(config.start_date + dt.timedelta(days=int(d))).weekday() for d in days])
    per_day = _allocate(n_organic, WEEKDAY_WEIGHTS[weekday] * eligible_weight)

    rng = _rng(config, 5)
    per_day_dup = _allocate(n_dup, per_day.astype(float))
    per_day_conflict = _allocate(n_conflict, per_day.astype(float))
    per_day_variant = _allocate(counts["events_type_variant"], per_day.astype(float))
    planted_all = EventBatch.concat(list(planted_batches.values()))
    future_mask = planted_all.sort_s >= start_s + config.days * DAY
    planted_day = np.clip((planted_all.sort_s - start_s) // DAY, 0, config.days - 1)

    writer = EventWriter(path, config.file_format)
    bar = tqdm(total=config.events, unit="ev", disable=not progress, file=sys.stderr)
    for day in days:
        day_rng = _rng(config, 100, int(day))
        parts = []
        if per_day[day]:
            organic = _sessions(
                day_rng,
                int(per_day[day]),
                int(day_starts[day]),
                order[: eligible[day]],
                weight_cdf[: eligible[day]],
                enrolments,
            )
            variants = day_rng.choice(len(organic), size=per_day_variant[day], replace=False)
            organic.types[variants] = [_variant(day_rng, t) for t in organic.types[variants]]
            parts.append(organic)
        todays = np.flatnonzero((planted_day == day) & ~future_mask)
        parts.append(planted_all.take(todays))
        _write_day(
            writer,
            EventBatch.concat(parts),
            day_rng,
            n_dup=int(per_day_dup[day]),
            n_conflict=int(per_day_conflict[day]),
            n_organic_today=int(per_day[day]),
        )
        bar.update(writer.rows - bar.n)
    future = planted_all.take(np.flatnonzero(future_mask))
    _write_day(writer, future, rng, 0, 0, n_organic_today=0)
    bar.update(writer.rows - bar.n)
    bar.close()
    writer.close()
    return counts


def _write_day(
    writer: EventWriter,
    batch: EventBatch,
    rng: np.random.Generator,
    n_dup: int,
    n_conflict: int,
    n_organic_today: int,
) -> None:
    """Order a day's events, number them, add duplicates of organic rows and write them."""
    if len(batch) == 0:
        return
    # Sessions get global numbers; each planted single event is its own session.
    session_numbers = batch.session.copy()
    organic = np.arange(len(batch)) < n_organic_today
    n_organic_sessions = int(session_numbers[organic].max()) + 1 if organic.any() else 0
    session_numbers[~organic] = n_organic_sessions + np.arange((~organic).sum())
    session_numbers += writer.next_session
    writer.next_session = int(session_numbers.max()) + 1

    file_order = np.lexsort((np.arange(len(batch)), batch.sort_s))
    batch = batch.take(file_order)
    session_numbers = session_numbers[file_order]
    organic = organic[file_order]
    ids = writer.next_id + np.arange(len(batch))
    writer.next_id += len(batch)

    # Re-deliver only organic rows with a clean event type, so every planted class stays disjoint.
    organic_rows = np.flatnonzero(organic & np.isin(batch.types, EVENT_TYPES))
    picked = rng.choice(
        organic_rows, size=min(len(organic_rows), n_dup + n_conflict), replace=False
    )
    dup_rows, conflict_rows = picked[:n_dup], picked[n_dup:]
    extra = np.concatenate([dup_rows, conflict_rows])
    extra_sessions = session_numbers[extra].copy()
    extra_batch = batch.take(extra)
    # A conflicting re-delivery: same id, another session id.
    conflicts = slice(len(dup_rows), None)
    extra_sessions[conflicts] = (extra_sessions[conflicts] + SESSION_SPACE // 2) % SESSION_SPACE
    # Re-deliveries arrive a few minutes after the original.
    extra_batch.sort_s = extra_batch.sort_s + rng.integers(1, 600, size=len(extra))

    all_batch = EventBatch.concat([batch, extra_batch])
    all_ids = np.concatenate([ids, ids[extra]])
    all_sessions = np.concatenate([session_numbers, extra_sessions])
    final = np.lexsort((np.arange(len(all_batch)), all_batch.sort_s))
    all_batch = all_batch.take(final)
    writer.write(_arrow_events(all_ids[final], all_batch, _session_codes(all_sessions[final])))


# --------------------------------------------------------------------------- files


def _parquet_schema(table: RawTable) -> pa.Schema:
    arrow = {
        "BIGINT": pa.int64(),
        "VARCHAR": pa.string(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
    }
    return pa.schema([(name, arrow[kind]) for name, kind in table.columns])


def _empty_table(table: RawTable) -> pa.Table:
    return _parquet_schema(table).empty_table()


def _write_csv_rows(rows: pa.Table, handle) -> None:
    pacsv.write_csv(
        rows,
        handle,
        pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536),
    )


def _write_table(rows: pa.Table, table: RawTable, path: Path, file_format: str) -> None:
    if file_format == "csv":
        with path.open("wb") as handle:
            handle.write((table.header + "\n").encode())
            _write_csv_rows(rows, handle)
        return
    parquet = rows
    if table is USERS:  # `deleted` is TRUE-or-empty text in CSV, a boolean in parquet
        deleted = pa.array(np.array(rows["deleted"].to_pylist()) == "TRUE")
        parquet = rows.set_column(rows.schema.get_field_index("deleted"), "deleted", deleted)
    pq.write_table(parquet.cast(_parquet_schema(table)), path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def generate(config: GeneratorConfig, out: Path, progress: bool = False) -> dict:
    """Write the four raw files and `manifest.json` into `out`; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    users = generate_users(config)
    courses = generate_courses(config)
    enrolments = generate_enrolments(config, users, courses)
    suffix = config.file_format
    for table, rows in (
        (USERS, users.table),
        (COURSES, courses.table),
        (ENROLMENTS, enrolments.table),
    ):
        _write_table(rows, table, out / f"{table.file_stem}.{suffix}", config.file_format)
    event_counts = generate_events(
        config, users, courses, enrolments, out / f"{EVENTS.file_stem}.{suffix}", progress
    )
    defects = _count_table_defects(config, users, courses, enrolments) | event_counts
    files = {}
    for table in (USERS, COURSES, ENROLMENTS, EVENTS):
        name = f"{table.file_stem}.{suffix}"
        files[name] = {"sha256": _sha256(out / name)}
    files[f"{USERS.file_stem}.{suffix}"]["rows"] = users.table.num_rows
    files[f"{COURSES.file_stem}.{suffix}"]["rows"] = courses.table.num_rows
    files[f"{ENROLMENTS.file_stem}.{suffix}"]["rows"] = enrolments.table.num_rows
    files[f"{EVENTS.file_stem}.{suffix}"]["rows"] = config.events
    settings = asdict(config)
    settings["end_date"] = config.end_date.isoformat()
    manifest = {
        "generator": "course-engagement generate",
        "settings": settings,
        "start_date": config.start_date.isoformat(),
        "end_date": config.end_date.isoformat(),
        "files": files,
        "defects": {name: int(defects[name]) for name in DEFECTS},
        "definitions": DEFECTS,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def _count_table_defects(
    config: GeneratorConfig, users: Users, courses: Courses, enrolments: Enrolments
) -> dict[str, int]:
    """Recount the non-event defects from the tables themselves, by their definitions."""

    def empty_and_variant(values: list, valid: tuple[str, ...]) -> tuple[int, int]:
        lowered = {v.lower() for v in valid}
        empty = sum(1 for v in values if v is None or v.strip() == "")
        variant = sum(
            1
            for v in values
            if v is not None and v.strip() != "" and v not in valid and v.strip().lower() in lowered
        )
        return empty, variant

    counts: dict[str, int] = {}
    u = users.table
    ids = np.array(u["id"].to_pylist())
    updated = np.array(u["updatedAt"].cast(pa.int64()).to_pylist())
    deleted = np.array(u["deleted"].to_pylist()) == "TRUE"
    counts["user_older_versions"] = len(ids) - len(np.unique(ids))
    latest_deleted, any_live, any_deleted = {}, Counter(), Counter()
    latest_at: dict[int, int] = {}
    for user_id, at, is_deleted in zip(
        ids.tolist(), updated.tolist(), deleted.tolist(), strict=True
    ):
        if at >= latest_at.get(user_id, -1):
            latest_at[user_id], latest_deleted[user_id] = at, is_deleted
        any_live[user_id] += not is_deleted
        any_deleted[user_id] += is_deleted
    counts["users_deleted_latest_with_live_older"] = sum(
        1 for user_id, is_del in latest_deleted.items() if is_del and any_live[user_id]
    )
    counts["users_restored"] = sum(
        1 for user_id, is_del in latest_deleted.items() if not is_del and any_deleted[user_id]
    )
    states = ("active", "pending", "suspended", "deleted")
    counts["users_state_empty"], counts["users_state_variant"] = empty_and_variant(
        u["state"].to_pylist(), states
    )
    c = courses.table
    counts["courses_category_empty"], counts["courses_category_variant"] = empty_and_variant(
        c["category_name"].to_pylist(), CATEGORIES
    )
    counts["courses_level_empty"], counts["courses_level_variant"] = empty_and_variant(
        c["level"].to_pylist(), LEVELS
    )
    e = enrolments.table
    statuses = e["status"].to_pylist()
    counts["enrolments_status_empty"], counts["enrolments_status_variant"] = empty_and_variant(
        statuses, ("active", "cancelled", "completed")
    )
    counts["enrolments_cancelled"] = sum(
        1 for s in statuses if s and s.strip().lower() == "cancelled"
    )
    pairs = list(zip(e["user_id"].to_pylist(), e["course_id"].to_pylist(), strict=True))
    counts["enrolments_duplicate_user_course"] = len(pairs) - len(set(pairs))
    counts["enrolments_of_deleted_users"] = sum(
        1 for user_id, _ in pairs if latest_deleted[user_id]
    )
    return counts


# --------------------------------------------------------------------------- CLI


def _parse_rates(text: str) -> dict[str, float]:
    rates = {}
    for item in filter(None, text.split(",")):
        name, _, value = item.partition("=")
        if name not in DEFECTS:
            raise argparse.ArgumentTypeError(f"unknown defect class {name!r}; see defects.py")
        rates[name] = float(value)
    return rates


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser()
    defaults = GeneratorConfig()
    parser.add_argument(
        "--out", type=Path, default=Path("data"), help="output folder (default: data/)"
    )
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--courses", type=int, default=defaults.courses)
    parser.add_argument("--enrolments", type=int, default=defaults.enrolments)
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=defaults.end_date,
        help="last day of organic activity (YYYY-MM-DD)",
    )
    parser.add_argument("--days", type=int, default=defaults.days, help="days of history")
    parser.add_argument(
        "--defect-rate",
        type=float,
        default=defaults.defect_rate,
        help="share of rows given each defect class (at least 3 each when positive)",
    )
    parser.add_argument(
        "--defect-rates",
        type=_parse_rates,
        default={},
        help="per-class overrides, e.g. events_future=0.05,users_restored=0",
    )
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = GeneratorConfig(
        users=args.users,
        courses=args.courses,
        enrolments=args.enrolments,
        events=args.events,
        seed=args.seed,
        end_date=args.end_date,
        days=args.days,
        defect_rate=args.defect_rate,
        defect_rates=args.defect_rates,
        file_format=args.format,
    )
    manifest = generate(config, args.out, progress=not args.quiet and sys.stderr.isatty())
    for name, info in manifest["files"].items():
        print(f"{args.out / name}: {info['rows']} rows")
    print(f"{args.out / 'manifest.json'}: {sum(manifest['defects'].values())} planted defects")
    return 0
