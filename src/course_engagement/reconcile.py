"""Reconcile the legacy course engagement query with the dbt mart, and say why they differ.

The legacy query (`1-sql/messy_course_engagement_duckdb.sql`) is kept verbatim; the mart
(`analytics.mart_course_engagement`) is the corrected definition. Saying "they differ" is not
enough to retire the old report: every difference has to be traced to a known flaw, or it is a
bug in one of the two.

How a difference is attributed. `model_sql` rebuilds the legacy numbers from the raw tables with
every flaw in `FLAWS` switched on or off. Step 0 has every flaw on and must reproduce the legacy
query exactly (checked course by course, so the model cannot drift from the file it describes);
each later step removes one more flaw, in the order of `FLAWS`; after the last step the model
must equal the mart. For a course and a metric, the causes of a legacy/mart difference are the
steps that changed the value, each with the evidence the step left behind (the user ids that
dropped out, the raw spellings it normalised, the change in the number). Whatever the chain does
not bridge (legacy != step 0, or last step != mart) is UNEXPLAINED, and the command fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from course_engagement.settings import REPO_ROOT, Settings

LEGACY_SQL_PATH = REPO_ROOT / "1-sql" / "messy_course_engagement_duckdb.sql"
MART = "analytics.mart_course_engagement"

# The legacy query's idea of an "active" event, spelled exactly as it spells it.
LEGACY_ACTIVE_TYPES = ("video_start", "video_complete", "quiz_start", "quiz_submit")
RATE_TOLERANCE = 1e-9
MAX_IDS_SHOWN = 6


# --------------------------------------------------------------------------- the flaws


@dataclass(frozen=True)
class Flaw:
    """One way the legacy query departs from the mart's definitions; removable in the model."""

    key: str
    short: str  # the cause in a summary table
    label: str  # the cause for one course: `{ids}` / `{values}` filled with the step's evidence
    evidence: str = "none"  # what fills the label: "users", "statuses", "event_types", "as_of",
    # "as_of_users" (both)


# Order matters: it is the order in which the model removes them. Population first (which rows
# exist, which users count), then which event rows count, then how events are classified, then
# how the rate is presented, so each step's evidence is about the thing it fixes.
FLAWS: tuple[Flaw, ...] = (
    Flaw(
        "drops_courses_without_enrolments",
        "legacy drops courses without enrolments",
        "legacy drops courses without enrolments (it drives from users, not the catalogue)",
    ),
    Flaw(
        "emits_null_course_row",
        "legacy emits a row with no course",
        "legacy emits a row with no course for {ids} without a catalogue enrolment",
        "users",
    ),
    Flaw(
        "resurrects_deleted_users",
        "legacy counts deleted users (via an older version)",
        "legacy counts deleted {ids} (latest version deleted, an older one is not)",
        "users",
    ),
    Flaw(
        "ignores_deleted_state",
        "legacy counts users whose state is 'deleted'",
        "legacy counts {ids} whose latest state is 'deleted'",
        "users",
    ),
    Flaw(
        "status_not_normalised",
        "legacy does not normalise cancelled status variants",
        "legacy does not normalise status {values} ({ids})",
        "statuses",
    ),
    Flaw(
        "counts_later_enrolments",
        "legacy counts enrolments made after as_of_date",
        "legacy counts {ids} enrolled only after as_of_date {values}",
        "as_of_users",
    ),
    Flaw(
        "fans_out_duplicate_enrolments",
        "legacy counts events once per duplicate enrolment",
        "legacy counts events once per duplicate enrolment ({ids})",
        "users",
    ),
    Flaw(
        "counts_duplicate_event_rows",
        "legacy counts duplicate event rows",
        "legacy counts duplicate event rows",
    ),
    Flaw(
        "counts_conflicting_event_rows",
        "legacy counts both rows of a conflicting event id",
        "legacy counts every row of an event id re-delivered with a different payload",
    ),
    Flaw(
        "counts_events_without_timestamp",
        "legacy counts events without a timestamp",
        "legacy counts events without a timestamp",
    ),
    Flaw(
        "counts_events_after_as_of",
        "legacy counts events after as_of_date",
        "legacy counts events after as_of_date {values}",
        "as_of",
    ),
    Flaw(
        "event_type_not_normalised",
        "legacy does not normalise event_type variants",
        "legacy does not normalise event_type {values}",
        "event_types",
    ),
    Flaw(
        "active_only_video_quiz",
        "legacy counts only video/quiz events as active",
        "legacy counts only video/quiz events as active ({ids})",
        "users",
    ),
    Flaw(
        "rounds_engagement_rate",
        "legacy rounds engagement_rate to 2 decimals",
        "legacy rounds engagement_rate to 2 decimals",
    ),
)
FLAW_KEYS = tuple(flaw.key for flaw in FLAWS)


# --------------------------------------------------------------------------- the metrics


@dataclass(frozen=True)
class Metric:
    key: str  # the model's column, and the legacy query's
    mart_column: str
    kind: str  # "presence", "count", "timestamp" or "rate"
    short: str  # column header of the cause table

    @property
    def title(self) -> str:
        if self.kind == "presence":
            return "course presence"
        if self.key == self.mart_column:
            return self.key
        return f"{self.key} vs {self.mart_column}"


PRESENCE = Metric("present", "present", "presence", "presence")
METRICS: tuple[Metric, ...] = (
    PRESENCE,
    Metric("learners", "learners", "count", "learners"),
    Metric("active_learners", "active_learners", "count", "active"),
    Metric("quizzes", "total_quizzes_completed", "count", "quizzes"),
    Metric("videos", "total_videos_completed", "count", "videos"),
    Metric("first_activity", "first_activity", "timestamp", "first"),
    Metric("last_activity", "last_activity", "timestamp", "last"),
    Metric("engagement_rate", "engagement_rate", "rate", "rate"),
)
VALUE_METRICS = METRICS[1:]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Cause:
    flaw: str  # a key of FLAWS, or "UNEXPLAINED"
    text: str
    before: Any = None  # the value before this step (legacy side)
    after: Any = None  # the value after it (mart side)

    @property
    def explained(self) -> bool:
        return self.flaw != "UNEXPLAINED"


@dataclass(frozen=True)
class Difference:
    course_id: int | None
    course_title: str | None
    metric: str
    legacy: Any
    mart: Any
    causes: tuple[Cause, ...]

    @property
    def explained(self) -> bool:
        return bool(self.causes) and all(cause.explained for cause in self.causes)


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    compared: int  # courses compared: both outputs for values, either output for presence
    differences: tuple[Difference, ...]

    @property
    def agree(self) -> int:
        return self.compared - len(self.differences)


BRIDGE_METRICS = ("learners", "active_learners", "quizzes", "videos")


@dataclass(frozen=True)
class BridgeStep:
    """Totals over all courses after one step of the model (the NULL-course row left out)."""

    label: str
    rows: int  # output rows, the NULL-course row included
    totals: dict[str, int]  # metric key (BRIDGE_METRICS) -> sum over courses

    @classmethod
    def of(cls, label: str, snapshot: Snapshot) -> BridgeStep:
        courses = [row for course_id, row in snapshot.items() if course_id is not None]
        totals = {key: sum(row.values[key] for row in courses) for key in BRIDGE_METRICS}
        return cls(label, len(snapshot), totals)


@dataclass(frozen=True)
class Reconciliation:
    db_path: Path
    as_of_date: dt.date
    legacy_rows: int
    mart_rows: int
    metrics: tuple[MetricResult, ...]
    bridge: tuple[BridgeStep, ...]  # legacy, model steps, mart: where the totals move
    legacy_sql: Path = LEGACY_SQL_PATH

    @property
    def differences(self) -> list[Difference]:
        return [d for result in self.metrics for d in result.differences]

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if not d.explained]

    def result(self, metric_key: str) -> MetricResult:
        return next(r for r in self.metrics if r.metric.key == metric_key)

    def cause_counts(self) -> Counter[tuple[str, str]]:
        """(metric key, flaw key) -> number of courses where that flaw moved that metric."""
        counts: Counter[tuple[str, str]] = Counter()
        for diff in self.differences:
            for flaw in dict.fromkeys(cause.flaw for cause in diff.causes):
                counts[diff.metric, flaw] += 1
        return counts


class ReconcileError(RuntimeError):
    """The comparison cannot run (missing database, table or file); the message says what to do."""


# --------------------------------------------------------------------------- the model


def _code(column: str) -> str:
    """A code as the mart compares it: trimmed of whitespace, lower-cased, blank is null."""
    return f"lower(nullif(trim({column}, chr(32) || chr(9) || chr(10) || chr(13)), ''))"


def model_sql(flaws: Iterable[str], as_of_date: dt.date) -> str:
    """The legacy numbers rebuilt from raw, with exactly `flaws` (keys of FLAWS) still present.

    One row per course (plus a NULL-course row while `emits_null_course_row` is present) with
    the metric values and the evidence the attribution needs (id lists, raw spellings). With
    every flaw present it computes what the legacy .sql computes; with none, what the mart does.
    """
    on = set(flaws)
    unknown = on - set(FLAW_KEYS)
    if unknown:
        raise ValueError(f"unknown flaws {sorted(unknown)}; see reconcile.FLAWS")

    def pick(flaw: str, legacy: str, fixed: str) -> str:
        return legacy if flaw in on else fixed

    # users: legacy drops deleted rows, then takes the latest; fixed: latest, then drop deleted
    users_where = pick("resurrects_deleted_users", "where deleted is null or not deleted", "")
    # the mart breaks a tie on updatedAt by load order; the legacy query leaves it to chance
    version_order = pick(
        "resurrects_deleted_users", '"updatedAt" desc', '"updatedAt" desc, rowid desc'
    )
    live = ["version_rank = 1"]
    if "resurrects_deleted_users" not in on:
        live.append("not coalesce(deleted, false)")
    if "ignores_deleted_state" not in on:
        live.append(f"{_code('state')} is distinct from 'deleted'")
    status = pick("status_not_normalised", "e.status", _code("e.status"))
    learner_rows = pick("fans_out_duplicate_enrolments", "select all", "select distinct")
    as_of_end = f"date '{as_of_date.isoformat()}' + interval 1 day"
    # the mart: an enrolment counts from its time on; one without a time counts always
    enrolled_by = pick(
        "counts_later_enrolments",
        "true",
        f"er.enrolled_at is null or er.enrolled_at < {as_of_end}",
    )
    course_join = pick("drops_courses_without_enrolments", "inner join", "left join")
    # events: row filters, then classification
    exact_duplicates = pick(
        "counts_duplicate_event_rows",
        "",
        "qualify row_number() over (partition by id, user_id, course_id, event_type,"
        " event_timestamp, session_id, metadata order by rowid) = 1",
    )
    conflicts = pick(
        "counts_conflicting_event_rows",
        "",
        "qualify row_number() over (partition by id order by rowid) = 1",
    )
    event_where = ["user_id is not null", "course_id is not null"]
    if "counts_events_without_timestamp" not in on:
        event_where.append("event_timestamp is not null")
    if "counts_events_after_as_of" not in on:
        event_where.append(f"coalesce(event_timestamp < {as_of_end}, true)")
    event_type = pick("event_type_not_normalised", "raw_type", _code("raw_type"))
    active_types = ", ".join(f"'{t}'" for t in LEGACY_ACTIVE_TYPES)
    is_active = pick("active_only_video_quiz", f"event_type in ({active_types})", "true")
    rate = pick(
        "rounds_engagement_rate",
        "round(len(active_ids) / len(learner_ids), 2)",
        "len(active_ids) / len(learner_ids)",
    )
    null_course_row = pick(
        "emits_null_course_row",
        """
        union all
        -- legacy: users LEFT JOIN enrolments LEFT JOIN courses leaves c.course_id null for a
        -- user with no enrolment at all, or with a kept enrolment outside the catalogue
        select
            null, null, learner_ids, [], 0, 0, null, null,
            round(0 / len(learner_ids), 2), [], []
        from (
            select list(distinct u.id order by u.id) as learner_ids
            from live_users as u
            where
                not exists (select 1 from raw.enrolments as e where e.user_id = u.id)
                or exists (
                    select 1 from enrolment_rows as er
                    where er.user_id = u.id and not exists (
                        select 1 from raw.courses as c where c.course_id = er.course_id
                    )
                )
        )
        where len(learner_ids) > 0
        """,
        "",
    )
    return f"""
        with
        user_versions as (
            select
                id, state, deleted,
                row_number() over (partition by id order by {version_order}) as version_rank
            from raw.users
            {users_where}
        ),
        live_users as (
            select id from user_versions where {" and ".join(live)}
        ),
        enrolment_rows as (
            select e.user_id, e.course_id, e.enrolled_at
            from raw.enrolments as e
            inner join live_users as u on u.id = e.user_id
            where e.status is null or {status} is distinct from 'cancelled'
        ),
        learner_rows as (
            {learner_rows} er.user_id, er.course_id
            from enrolment_rows as er
            inner join raw.courses as c on c.course_id = er.course_id
            where {enrolled_by}
        ),
        fanned_out as (
            select course_id, list(user_id order by user_id) as user_ids
            from (
                select course_id, user_id from learner_rows
                group by all having count(*) > 1
            )
            group by course_id
        ),
        event_rows as (
            select rowid, * from raw.events
            {exact_duplicates}
        ),
        one_per_id as (
            select * from event_rows
            {conflicts}
        ),
        counted_events as (
            select
                user_id, course_id, event_timestamp,
                event_type as raw_type,
                {event_type} as event_type
            from one_per_id
            where {" and ".join(event_where)}
        ),
        joined as (
            select
                lr.user_id, lr.course_id,
                ev.raw_type, ev.event_type, ev.event_timestamp,
                ev.user_id is not null as is_event
            from learner_rows as lr
            left join counted_events as ev
                on ev.user_id = lr.user_id and ev.course_id = lr.course_id
        ),
        per_course as (
            select
                course_id,
                list(distinct user_id order by user_id) as learner_ids,
                coalesce(
                    list(distinct user_id order by user_id)
                        filter (where is_event and {is_active}),
                    []
                ) as active_ids,
                count(*) filter (where event_type = 'quiz_submit') as quizzes,
                count(*) filter (where event_type = 'video_complete') as videos,
                min(event_timestamp) as first_activity,
                max(event_timestamp) as last_activity,
                coalesce(
                    list(distinct raw_type order by raw_type)
                        filter (where raw_type is distinct from {_code("raw_type")}),
                    []
                ) as type_variants
            from joined
            group by course_id
        ),
        by_course as (
            select
                c.course_id,
                c.title,
                coalesce(p.learner_ids, []) as learner_ids,
                coalesce(p.active_ids, []) as active_ids,
                coalesce(p.quizzes, 0) as quizzes,
                coalesce(p.videos, 0) as videos,
                p.first_activity,
                p.last_activity,
                case when len(p.learner_ids) > 0 then {rate} end as engagement_rate,
                coalesce(p.type_variants, []) as type_variants,
                coalesce(f.user_ids, []) as fanned_out_ids
            from raw.courses as c
            {course_join} per_course as p on p.course_id = c.course_id
            left join fanned_out as f on f.course_id = c.course_id
        )
        select * from by_course
        {null_course_row}
    """


@dataclass(frozen=True)
class CourseRow:
    """One course's metric values in one output (legacy, a model step, or the mart)."""

    title: str | None
    values: dict[str, Any]
    learner_ids: frozenset[int] = frozenset()
    active_ids: frozenset[int] = frozenset()
    type_variants: tuple[str, ...] = ()
    fanned_out_ids: frozenset[int] = frozenset()


Snapshot = dict[int | None, CourseRow]  # course_id (None: the legacy NULL-course row) -> row


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _value(metric: Metric, raw: Any) -> Any:
    if raw is None:
        return None
    if metric.kind == "count":
        return int(raw)
    if metric.kind == "rate":
        return float(raw)
    return raw


def run_model(con: duckdb.DuckDBPyConnection, flaws: Iterable[str], as_of: dt.date) -> Snapshot:
    snapshot: Snapshot = {}
    for rec in _records(con, model_sql(flaws, as_of)):
        values = {
            "learners": len(rec["learner_ids"]),
            "active_learners": len(rec["active_ids"]),
            "quizzes": rec["quizzes"],
            "videos": rec["videos"],
            "first_activity": rec["first_activity"],
            "last_activity": rec["last_activity"],
            "engagement_rate": rec["engagement_rate"],
        }
        snapshot[rec["course_id"]] = CourseRow(
            title=rec["title"],
            values={m.key: _value(m, values[m.key]) for m in VALUE_METRICS},
            learner_ids=frozenset(rec["learner_ids"]),
            active_ids=frozenset(rec["active_ids"]),
            type_variants=tuple(rec["type_variants"]),
            fanned_out_ids=frozenset(rec["fanned_out_ids"]),
        )
    return snapshot


def run_legacy(con: duckdb.DuckDBPyConnection, sql_path: Path = LEGACY_SQL_PATH) -> Snapshot:
    try:
        sql = sql_path.read_text()
    except FileNotFoundError as exc:
        raise ReconcileError(f"legacy query not found at {sql_path}") from exc
    try:
        records = _records(con, sql)
    except duckdb.Error as exc:
        raise ReconcileError(
            f"the legacy query {sql_path} failed on this database: {exc}. Are the raw tables "
            "loaded (`course-engagement load`)?"
        ) from exc
    return _by_course(
        "the legacy query",
        (
            (
                rec["course_id"],
                CourseRow(rec["title"], {m.key: _value(m, rec[m.key]) for m in VALUE_METRICS}),
            )
            for rec in records
        ),
    )


def _by_course(source: str, rows: Iterable[tuple[int | None, CourseRow]]) -> Snapshot:
    """Key rows by course_id, refusing a second row for a course (it would hide a difference)."""
    snapshot: Snapshot = {}
    for course_id, row in rows:
        if course_id in snapshot:
            raise ReconcileError(
                f"{source} returned more than one row for course_id {course_id}; the comparison "
                "is per course, so fix the grain (a duplicated course in raw.courses?) first."
            )
        snapshot[course_id] = row
    return snapshot


def run_mart(con: duckdb.DuckDBPyConnection) -> tuple[Snapshot, dt.date]:
    columns = ", ".join(
        dict.fromkeys(
            ["course_id", "course_title", "as_of_date"] + [m.mart_column for m in VALUE_METRICS]
        )
    )
    try:
        records = _records(con, f"select {columns} from {MART}")
    except duckdb.Error as exc:
        raise ReconcileError(
            f"cannot read {MART}: {exc}. Build it first: `uv run dbt build --project-dir "
            "2-dbt_project --profiles-dir 2-dbt_project` with COURSE_ENGAGEMENT_DB pointing at "
            "this database."
        ) from exc
    as_of_dates = {rec["as_of_date"] for rec in records}
    if len(as_of_dates) != 1:
        raise ReconcileError(
            f"{MART} must hold exactly one as_of_date, found {sorted(map(str, as_of_dates))}; "
            "an empty mart means the course catalogue is empty or the build failed."
        )
    snapshot = _by_course(
        MART,
        (
            (
                rec["course_id"],
                CourseRow(
                    rec["course_title"],
                    {m.key: _value(m, rec[m.mart_column]) for m in VALUE_METRICS},
                ),
            )
            for rec in records
        ),
    )
    return snapshot, as_of_dates.pop()


# --------------------------------------------------------------------------- attribution


def _same(metric: Metric, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if metric.kind == "rate":
        return math.isclose(a, b, rel_tol=0, abs_tol=RATE_TOLERANCE)
    return a == b


def _get(snapshot: Snapshot, course_id: int | None, metric: Metric) -> Any:
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


def _status_variants(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], tuple[str, ...]]:
    rows = con.execute(
        f"""
        select course_id, user_id, list(distinct status order by status)
        from raw.enrolments
        where {_code("status")} = 'cancelled' and status <> 'cancelled'
        group by all
        """
    ).fetchall()
    return {(course, user): tuple(spellings) for course, user, spellings in rows}


# The event types that can move each metric, for quoting the raw spellings a step normalised.
TYPES_MOVING: dict[str, tuple[str, ...]] = {
    "quizzes": ("quiz_submit",),
    "videos": ("video_complete",),
    "active_learners": LEGACY_ACTIVE_TYPES,
    "engagement_rate": LEGACY_ACTIVE_TYPES,
}


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
        spellings = [t for t in before.type_variants if t.strip().lower() in moving]
        values = ", ".join(repr(t) for t in spellings)
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
    legacy_value, step0_value = _get(legacy, course_id, metric), _get(steps[0], course_id, metric)
    if not _same(metric, legacy_value, step0_value):
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
        old, new = _get(before, course_id, metric), _get(after, course_id, metric)
        if not _same(metric, old, new):
            text = _cause(
                flaw, metric, course_id, before.get(course_id), after.get(course_id), evidence
            )
            causes.append(Cause(flaw.key, text, old, new))
    last_value, mart_value = _get(steps[-1], course_id, metric), _get(mart, course_id, metric)
    if not _same(metric, last_value, mart_value):
        causes.append(
            Cause(
                "UNEXPLAINED",
                "UNEXPLAINED: the mart differs from the legacy logic with every known flaw removed",
                last_value,
                mart_value,
            )
        )
    return tuple(causes)


def reconcile(db_path: Path, legacy_sql: Path = LEGACY_SQL_PATH) -> Reconciliation:
    """Compare legacy and mart on one database, attributing every difference (read-only)."""
    if not db_path.exists():
        raise ReconcileError(
            f"database {db_path} does not exist; load the raw CSVs and build the dbt project "
            "first, or pass --db / set COURSE_ENGAGEMENT_DB."
        )
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise ReconcileError(
            f"cannot open {db_path} read-only: {exc}. If a writer (dbt, the loader, an Airflow "
            "run) holds it, wait for it to finish."
        ) from exc
    with con:
        mart, as_of = run_mart(con)
        legacy = run_legacy(con, legacy_sql)
        steps = [run_model(con, FLAW_KEYS[i:], as_of) for i in range(len(FLAWS) + 1)]
        evidence = Evidence(as_of, _status_variants(con))

    results = []
    for metric in METRICS:
        if metric.kind == "presence":
            courses = sorted(legacy.keys() | mart.keys(), key=_sort_key)
        else:
            courses = sorted(legacy.keys() & mart.keys(), key=_sort_key)
        differences = []
        for course_id in courses:
            legacy_value, mart_value = (
                _get(legacy, course_id, metric),
                _get(mart, course_id, metric),
            )
            if _same(metric, legacy_value, mart_value):
                continue
            row = mart.get(course_id) or legacy[course_id]
            differences.append(
                Difference(
                    course_id,
                    row.title,
                    metric.key,
                    legacy_value,
                    mart_value,
                    attribute(course_id, metric, legacy, steps, mart, evidence),
                )
            )
        results.append(MetricResult(metric, len(courses), tuple(differences)))
    bridge = (
        BridgeStep.of("legacy query", legacy),
        BridgeStep.of("model, every flaw present", steps[0]),
        *(
            BridgeStep.of(f"fixed: {flaw.short.removeprefix('legacy ')}", step)
            for flaw, step in zip(FLAWS, steps[1:], strict=True)
        ),
        BridgeStep.of(MART, mart),
    )
    return Reconciliation(
        db_path, as_of, len(legacy), len(mart), tuple(results), bridge, legacy_sql
    )


def _sort_key(course_id: int | None) -> tuple[bool, int]:
    return (course_id is None, course_id or 0)


# --------------------------------------------------------------------------- printing


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "present" if value else "missing"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _course(diff: Difference) -> str:
    name = "(no course)" if diff.course_id is None else f"course {diff.course_id}"
    return f"{name} {diff.course_title!r}" if diff.course_title else name


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def format_report(rec: Reconciliation, details: bool = True) -> str:
    """The agreement table, each difference with its causes, then the cause table.

    Without `details`, only UNEXPLAINED differences are listed one by one.
    """
    lines = [
        f"Legacy query ({_relative(rec.legacy_sql)}) vs {MART}",
        f"database {rec.db_path}, as_of_date {rec.as_of_date}",
        f"rows: legacy {rec.legacy_rows}, mart {rec.mart_rows}",
        "",
        f"{'metric':<48} {'agree':>6} {'compared':>9}",
    ]
    for result in rec.metrics:
        lines.append(f"{result.metric.title:<48} {result.agree:>6} {result.compared:>9}")
    lines.append("")
    for result in rec.metrics:
        shown = [d for d in result.differences if details or not d.explained]
        if not shown:
            continue
        lines.append(f"{result.metric.title}: {len(result.differences)} difference(s)")
        for diff in shown:
            lines.append(f"  {_course(diff)}: legacy {_show(diff.legacy)}, mart {_show(diff.mart)}")
            for cause in diff.causes:
                step = f"{_show(cause.before)} -> {_show(cause.after)}"
                lines.append(f"    - {cause.text} [{step}]")
        lines.append("")
    lines += format_cause_table(rec)
    lines += format_bridge(rec)
    unexplained = rec.unexplained
    lines.append(
        f"UNEXPLAINED differences: {len(unexplained)}"
        if unexplained
        else f"All {len(rec.differences)} differences are explained by a known legacy flaw."
    )
    return "\n".join(lines)


def format_cause_table(rec: Reconciliation) -> list[str]:
    """Courses whose difference each flaw moved, per metric: the summary ANALYSIS.md quotes."""
    counts = rec.cause_counts()
    if not counts:
        return []
    headers = [m.short for m in METRICS]
    rows = [(flaw.key, flaw.short) for flaw in FLAWS]
    if any(flaw == "UNEXPLAINED" for _, flaw in counts):
        rows.append(("UNEXPLAINED", "UNEXPLAINED"))
    width = max(len(label) for _, label in rows)
    lines = [
        "Courses whose difference each cause explains (a course can have several causes):",
        f"  {'cause':<{width}} " + " ".join(f"{h:>9}" for h in headers),
    ]
    for key, label in rows:
        cells = [counts.get((m.key, key), 0) for m in METRICS]
        if any(cells):
            lines.append(f"  {label:<{width}} " + " ".join(f"{c or '.':>9}" for c in cells))
    lines.append("")
    return lines


def format_bridge(rec: Reconciliation) -> list[str]:
    """Totals over all courses as each flaw is removed: how legacy's totals become the mart's."""
    width = max(len(step.label) for step in rec.bridge)
    headers = [next(m.short for m in METRICS if m.key == key) for key in BRIDGE_METRICS]
    lines = [
        "Totals over all courses as each flaw is removed in turn:",
        f"  {'step':<{width}} {'rows':>5} " + " ".join(f"{h:>9}" for h in headers),
    ]
    for step in rec.bridge:
        cells = " ".join(f"{step.totals[key]:>9}" for key in BRIDGE_METRICS)
        lines.append(f"  {step.label:<{width}} {step.rows:>5} {cells}")
    lines.append("")
    return lines


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Run the legacy course engagement query and read analytics.mart_course_engagement "
            "on the same DuckDB database (read-only), report per metric how many courses agree "
            "and name the cause of every difference. Exits 1 if any difference is UNEXPLAINED."
        ),
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="DuckDB database holding raw.* and the mart (default: COURSE_ENGAGEMENT_DB, "
        "else mock_data.duckdb in the repo root)",
    )
    parser.add_argument(
        "--summary",
        action="store_true",
        help="print the two tables only (and any UNEXPLAINED difference), not every course",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    db_path = args.db.expanduser().resolve() if args.db else Settings.from_env().db_path
    try:
        rec = reconcile(db_path)
    except ReconcileError as exc:
        print(f"reconcile: error: {exc}", file=sys.stderr)
        return 2
    print(format_report(rec, details=not args.summary))
    return 1 if rec.unexplained else 0


if __name__ == "__main__":
    raise SystemExit(main())
