"""Which flaw moved a course's metric: the walk legacy -> model steps -> mart, with evidence.

For one course and metric, the causes are the steps that changed the value, each with what the
step left behind (the user ids that dropped out, the raw spellings it normalised). A link that
no flaw explains (legacy != the model with every flaw, or the model with none != the mart) is
UNEXPLAINED.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from course_engagement.legacy.flaws import FLAWS, TYPES_MOVING, Flaw, Metric
from course_engagement.legacy.outputs import CourseRow, Snapshot

RATE_TOLERANCE = 1e-9
MAX_IDS_SHOWN = 6
STATUS_VARIANTS_SQL = Path(__file__).with_name("status_variants.sql")


@dataclass(frozen=True)
class Cause:
    flaw: str  # a key of FLAWS, or "UNEXPLAINED"
    text: str
    before: Any = None  # the value before this step (legacy side)
    after: Any = None  # the value after it (mart side)

    @property
    def explained(self) -> bool:
        return self.flaw != "UNEXPLAINED"


def same(metric: Metric, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if metric.kind == "rate":
        return math.isclose(a, b, rel_tol=0, abs_tol=RATE_TOLERANCE)
    return a == b


def value_in(snapshot: Snapshot, course_id: int | None, metric: Metric) -> Any:
    row = snapshot.get(course_id)
    if metric.kind == "presence":
        return row is not None
    return None if row is None else row.values[metric.key]


def _ids(ids: Iterable[int]) -> str:
    ordered = sorted(ids)
    shown = ", ".join(str(i) for i in ordered[:MAX_IDS_SHOWN])
    more = f" and {len(ordered) - MAX_IDS_SHOWN} more" if len(ordered) > MAX_IDS_SHOWN else ""
    return f"user{'s' if len(ordered) != 1 else ''} {shown}{more}"


@dataclass(frozen=True)
class Evidence:
    """Raw facts a cause's text quotes; looked up once per run."""

    as_of_date: dt.date
    status_variants: dict[tuple[int, int], tuple[str, ...]]  # (course, user) -> raw spellings


def status_variants(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], tuple[str, ...]]:
    """(course, user) -> the raw spellings of its cancelled status that are not 'cancelled'."""
    rows = con.execute(STATUS_VARIANTS_SQL.read_text()).fetchall()
    return {(course, user): tuple(spellings) for course, user, spellings in rows}


def _cause(
    flaw: Flaw,
    metric: Metric,
    course_id: int | None,
    before: CourseRow | None,
    after: CourseRow | None,
    evidence: Evidence,
) -> str:
    """The printed cause: the flaw's label filled with what this step changed for this course."""
    moved: set[int] = set()
    if before is not None:
        if flaw.key == "fans_out_duplicate_enrolments":
            moved = set(before.fanned_out_ids)
        elif flaw.key == "emits_null_course_row":
            moved = set(before.learner_ids)
        else:
            moved = _learners(before) ^ _learners(after) or _actives(before) ^ _actives(after)
    values = ""
    if flaw.evidence == "statuses":
        spellings = {s for u in moved for s in evidence.status_variants.get((course_id, u), ())}
        values = ", ".join(repr(s) for s in sorted(spellings))
    elif flaw.evidence == "event_types" and before is not None:
        moving = TYPES_MOVING.get(metric.key, ())
        spellings = [raw for raw, normal in before.type_variants if normal in moving]
        values = ", ".join(repr(raw) for raw in spellings)
    elif flaw.evidence in ("as_of", "as_of_users"):
        values = evidence.as_of_date.isoformat()
    return flaw.label.format(ids=_ids(moved) if moved else "users", values=values)


def _learners(row: CourseRow | None) -> set[int]:
    return set() if row is None else set(row.learner_ids)


def _actives(row: CourseRow | None) -> set[int]:
    return set() if row is None else set(row.active_ids)


def attribute(
    course_id: int | None,
    metric: Metric,
    legacy: Snapshot,
    steps: Sequence[Snapshot],
    mart: Snapshot,
    evidence: Evidence,
) -> tuple[Cause, ...]:
    """Walk legacy -> model step 0 -> ... -> last step -> mart and name each link that moved."""
    causes: list[Cause] = []
    legacy_value, step0_value = (
        value_in(legacy, course_id, metric),
        value_in(steps[0], course_id, metric),
    )
    if not same(metric, legacy_value, step0_value):
        causes.append(
            Cause(
                "UNEXPLAINED",
                "UNEXPLAINED: the model of the legacy query does not reproduce it here "
                "(model_sql has drifted from the .sql file)",
                legacy_value,
                step0_value,
            )
        )
    for flaw, before, after in zip(FLAWS, steps[:-1], steps[1:], strict=True):
        old, new = value_in(before, course_id, metric), value_in(after, course_id, metric)
        if not same(metric, old, new):
            text = _cause(
                flaw, metric, course_id, before.get(course_id), after.get(course_id), evidence
            )
            causes.append(Cause(flaw.key, text, old, new))
    last_value, mart_value = (
        value_in(steps[-1], course_id, metric),
        value_in(mart, course_id, metric),
    )
    if not same(metric, last_value, mart_value):
        causes.append(
            Cause(
                "UNEXPLAINED",
                "UNEXPLAINED: the mart differs from the legacy logic with every known flaw removed",
                last_value,
                mart_value,
            )
        )
    return tuple(causes)
