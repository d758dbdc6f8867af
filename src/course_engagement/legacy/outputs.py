"""The three outputs the comparison reads, one `Snapshot` (course -> metric values) each.

The legacy query as the .sql file runs it, the mart as published, and `model.sql` with a chosen
suffix of the flaws still present.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from course_engagement.legacy.flaws import FLAW_KEYS, LEGACY_ACTIVE_TYPES, VALUE_METRICS, Metric
from course_engagement.settings import REPO_ROOT

LEGACY_SQL_PATH = REPO_ROOT / "1-sql" / "messy_course_engagement_duckdb.sql"
MODEL_SQL_PATH = Path(__file__).with_name("model.sql")
MART = "analytics.mart_course_engagement"


class ComparisonError(RuntimeError):
    """The comparison cannot run (missing database, table or file); the message says what to do."""


@dataclass(frozen=True)
class CourseRow:
    """One course's metric values in one output (legacy, a model step, or the mart)."""

    title: str | None
    values: dict[str, Any]
    learner_ids: frozenset[int] = frozenset()
    active_ids: frozenset[int] = frozenset()
    type_variants: tuple[tuple[str, str | None], ...] = ()  # (raw spelling, normalised type)
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


def set_model_variables(
    con: duckdb.DuckDBPyConnection, flaws: Sequence[str], as_of: dt.date
) -> None:
    """The variables of model.sql: `flaws` present (a suffix of FLAW_KEYS), the others removed."""
    flaws = tuple(flaws)
    if flaws != FLAW_KEYS[len(FLAW_KEYS) - len(flaws) :]:
        raise ValueError(
            f"flaws {list(flaws)} are not a suffix of legacy.flaws.FLAW_KEYS: the model removes "
            "them in that order"
        )
    for key in FLAW_KEYS:
        con.execute(f"set variable {key} = {key in flaws}")
    con.execute("set variable as_of_end = $1::timestamp", [as_of + dt.timedelta(days=1)])
    con.execute("set variable legacy_active_types = $1::varchar[]", [list(LEGACY_ACTIVE_TYPES)])


def run_model(con: duckdb.DuckDBPyConnection, flaws: Sequence[str], as_of: dt.date) -> Snapshot:
    """model.sql with `flaws` (a suffix of FLAW_KEYS) still present, as of `as_of`."""
    set_model_variables(con, flaws, as_of)
    snapshot: Snapshot = {}
    for rec in _records(con, MODEL_SQL_PATH.read_text()):
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
            type_variants=tuple((raw, normal) for raw, normal in rec["type_variants"]),
            fanned_out_ids=frozenset(rec["fanned_out_ids"]),
        )
    return snapshot


def run_legacy(con: duckdb.DuckDBPyConnection, sql_path: Path = LEGACY_SQL_PATH) -> Snapshot:
    try:
        sql = sql_path.read_text()
    except FileNotFoundError as exc:
        raise ComparisonError(f"legacy query not found at {sql_path}") from exc
    try:
        records = _records(con, sql)
    except duckdb.Error as exc:
        raise ComparisonError(
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
            raise ComparisonError(
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
        raise ComparisonError(
            f"cannot read {MART}: {exc}. Build it first: `uv run dbt build --project-dir "
            "2-dbt_project --profiles-dir 2-dbt_project` with COURSE_ENGAGEMENT_DB pointing at "
            "this database."
        ) from exc
    as_of_dates = {rec["as_of_date"] for rec in records}
    if len(as_of_dates) != 1:
        raise ComparisonError(
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
