"""Event batches: a day's organic sessions of enrolled learners, and the planted event defects
(disjoint by construction), and exact and conflicting re-deliveries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_engagement.synthetic.config import (
    DAY,
    SESSION_TEMPLATES,
    STANDALONE_TYPES,
    TEMPLATE_WEIGHTS,
    UNKNOWN_EVENT_TYPES,
    GeneratorConfig,
    epoch_seconds,
    planted,
    random_hours,
    rng_for,
)
from course_engagement.synthetic.defects import DEFECTS
from course_engagement.synthetic.entities import Courses, Enrolments, Users, pair_key


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


def sessions(
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
    start = day_s + random_hours(rng, n_sessions) * 3_600 + rng.integers(0, 3_600, size=n_sessions)
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


@dataclass
class _Planting:
    """What every planted event class draws from, in one seeded stream."""

    rng: np.random.Generator
    config: GeneratorConfig
    users: Users
    courses: Courses
    enrolments: Enrolments

    def __post_init__(self) -> None:
        self.start_s = epoch_seconds(self.config.start_date)
        self.end_s = epoch_seconds(self.config.end_date) + DAY
        self.live_users = np.flatnonzero(self.users.is_live)

    def count(self, defect: str) -> int:
        return planted(self.config, defect, self.config.events)

    def valid_pairs(self, k: int) -> np.ndarray:
        return self.rng.choice(np.arange(len(self.enrolments.valid_user)), size=k)

    def after_enrolment(self, pairs: np.ndarray) -> np.ndarray:
        lo = np.maximum(self.enrolments.valid_first_s[pairs] + 60, self.start_s)
        return _between(self.rng, lo, np.full(len(pairs), self.end_s - 3_600))

    def anytime(self, k: int) -> np.ndarray:
        return _between(self.rng, np.full(k, self.start_s), np.full(k, self.end_s - 3_600))

    def on_valid_pairs(self, pairs: np.ndarray, ts: np.ndarray) -> EventBatch:
        e = self.enrolments
        return _single_events(self.rng, e.valid_user[pairs], e.valid_course[pairs], ts)


def _plant_enrolment_defects(p: _Planting, batches: dict[str, EventBatch]) -> None:
    """Events before the enrolment, on a cancelled one, or with no enrolment at all."""
    e, rng = p.enrolments, p.rng
    k = p.count("events_before_enrolment")
    eligible = np.flatnonzero(e.valid_first_s > p.start_s + 2 * DAY)
    pairs = rng.choice(eligible, size=k) if len(eligible) else p.valid_pairs(0)
    first = e.valid_first_s[pairs]
    ts = _between(rng, np.maximum(first - 14 * DAY, p.start_s), first - 60)
    batches["events_before_enrolment"] = p.on_valid_pairs(pairs, ts)

    k = p.count("events_on_cancelled_enrolment")
    if len(e.cancelled_user) and k:
        rows = rng.choice(len(e.cancelled_user), size=k)
        lo = np.maximum(e.cancelled_at_s[rows] + 3_600, p.start_s)
        batches["events_on_cancelled_enrolment"] = _single_events(
            rng,
            e.cancelled_user[rows],
            e.cancelled_course[rows],
            _between(rng, lo, np.full(k, p.end_s - 3_600)),
        )

    k = p.count("events_without_enrolment")
    found_u, found_c = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    while sum(map(len, found_u)) < k:
        u = rng.choice(p.live_users, size=4 * k)
        c = rng.integers(1, p.courses.n_ids + 1, size=4 * k)
        key = pair_key(u, c, p.courses.n_ids)
        position = np.clip(np.searchsorted(e.pair_keys, key), 0, len(e.pair_keys) - 1)
        free = e.pair_keys[position] != key
        found_u.append(u[free])
        found_c.append(c[free])
    u, c = np.concatenate(found_u)[:k], np.concatenate(found_c)[:k]
    batches["events_without_enrolment"] = _single_events(rng, u, c, p.anytime(k))


def _plant_value_defects(p: _Planting, batches: dict[str, EventBatch]) -> None:
    """Events of an unknown user, course or type, without a timestamp, or in the future."""
    rng, n_users, n_courses = p.rng, p.users.n_ids, p.courses.n_ids
    k = p.count("events_unknown_user")
    batches["events_unknown_user"] = _single_events(
        rng,
        n_users + rng.integers(1, 500, size=k),
        rng.integers(1, n_courses + 1, size=k),
        p.anytime(k),
    )

    k = p.count("events_unknown_course")
    batches["events_unknown_course"] = _single_events(
        rng, rng.choice(p.live_users, size=k), n_courses + rng.integers(1, 50, size=k), p.anytime(k)
    )

    k = p.count("events_unknown_type")
    pairs = p.valid_pairs(k)
    batch = p.on_valid_pairs(pairs, p.after_enrolment(pairs))
    batch.types = rng.choice(UNKNOWN_EVENT_TYPES, size=k).astype(object)
    batch.metadata = np.full(k, "none", dtype=object)
    batches["events_unknown_type"] = batch

    k = p.count("events_empty_timestamp")
    pairs = p.valid_pairs(k)
    batch = p.on_valid_pairs(pairs, p.after_enrolment(pairs))
    batch.has_ts = np.zeros(k, dtype=bool)
    batches["events_empty_timestamp"] = batch

    k = p.count("events_future")
    pairs = p.valid_pairs(k)
    batches["events_future"] = p.on_valid_pairs(pairs, p.end_s + rng.integers(60, 3 * DAY, size=k))


def plant_event_defects(
    config: GeneratorConfig, users: Users, courses: Courses, enrolments: Enrolments
) -> tuple[dict[str, EventBatch], dict[str, int]]:
    """The planted (non-organic, non-duplicate) event defects, each class disjoint from the rest."""
    planting = _Planting(rng_for(config, 4), config, users, courses, enrolments)
    batches: dict[str, EventBatch] = {}
    _plant_enrolment_defects(planting, batches)
    _plant_value_defects(planting, batches)
    counts = {name: 0 for name in DEFECTS if name.startswith("events_")}
    counts |= {name: len(batch) for name, batch in batches.items()}
    for repeated in ("events_exact_duplicates", "events_id_conflicts", "events_type_variant"):
        counts[repeated] = planting.count(repeated)
    return batches, counts
