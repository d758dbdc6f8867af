"""The events file, written a day at a time: each day's organic sessions and planted events,
numbered, with exact and conflicting re-deliveries of organic rows, in timestamp order."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from course_engagement.contract import EVENT_TYPES
from course_engagement.synthetic.config import (
    DAY,
    SESSION_SPACE,
    WEEKDAY_WEIGHTS,
    GeneratorConfig,
    epoch_seconds,
    rng_for,
    session_codes,
    variant,
)
from course_engagement.synthetic.entities import Courses, Enrolments, Users
from course_engagement.synthetic.events import EventBatch, plant_event_defects, sessions
from course_engagement.synthetic.files import EventWriter


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    exact = weights / weights.sum() * total
    parts = np.floor(exact).astype(np.int64)
    remainder = total - parts.sum()
    parts[np.argsort(-(exact - parts), kind="stable")[:remainder]] += 1
    return parts


class _OrganicPlan:
    """How many organic events each day gets (the weekday rhythm times the weight of the pairs
    enrolled by then), and the pairs a day's sessions are drawn from."""

    def __init__(
        self,
        config: GeneratorConfig,
        enrolments: Enrolments,
        day_starts: np.ndarray,
        n_organic: int,
    ) -> None:
        self.enrolments = enrolments
        self.order = np.argsort(enrolments.valid_first_s, kind="stable")
        first_sorted = enrolments.valid_first_s[self.order]
        self.weight_cdf = np.cumsum(enrolments.valid_weight[self.order])
        # pairs enrolled before each day starts
        self.eligible = np.searchsorted(first_sorted, day_starts)
        eligible_weight = np.where(
            self.eligible > 0, self.weight_cdf[np.maximum(self.eligible - 1, 0)], 0.0
        )
        weekday = np.array(
            [(config.start_date + dt.timedelta(days=int(d))).weekday() for d in range(config.days)]
        )
        self.per_day = _allocate(n_organic, WEEKDAY_WEIGHTS[weekday] * eligible_weight)

    def sessions(self, rng: np.random.Generator, day: int, day_s: int) -> EventBatch:
        eligible = self.eligible[day]
        return sessions(
            rng,
            int(self.per_day[day]),
            day_s,
            self.order[:eligible],
            self.weight_cdf[:eligible],
            self.enrolments,
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

    start_s = epoch_seconds(config.start_date)
    days = np.arange(config.days)
    day_starts = start_s + days * DAY
    plan = _OrganicPlan(config, enrolments, day_starts, n_organic)
    per_day = plan.per_day

    rng = rng_for(config, 5)
    per_day_dup = _allocate(n_dup, per_day.astype(float))
    per_day_conflict = _allocate(n_conflict, per_day.astype(float))
    per_day_variant = _allocate(counts["events_type_variant"], per_day.astype(float))
    planted_all = EventBatch.concat(list(planted_batches.values()))
    future_mask = planted_all.sort_s >= start_s + config.days * DAY
    planted_day = np.clip((planted_all.sort_s - start_s) // DAY, 0, config.days - 1)

    writer = EventWriter(path, config.file_format)
    bar = tqdm(total=config.events, unit="ev", disable=not progress, file=sys.stderr)
    for day in days:
        day_rng = rng_for(config, 100, int(day))
        parts = []
        if per_day[day]:
            organic = plan.sessions(day_rng, int(day), int(day_starts[day]))
            variants = day_rng.choice(len(organic), size=per_day_variant[day], replace=False)
            organic.types[variants] = [variant(day_rng, t) for t in organic.types[variants]]
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
    writer.write(_arrow_events(all_ids[final], all_batch, session_codes(all_sessions[final])))


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
