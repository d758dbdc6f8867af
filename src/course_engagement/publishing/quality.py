"""The quality gate between the mart and the report: publish nothing that looks wrong.

It checks the published table as the stakeholder will see it and lists every failed check at
once; it also fails when a key figure fell by more than its allowed share since the report of
the previous date (`analytics.pipeline_run_history`). Why, and the thresholds:
docs/decisions/quality_gate.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from course_engagement.publishing import spark_marts
from course_engagement.settings import DEFAULT_MAX_LOSS_SHARES, share_from_env
from course_engagement.sql_files import sql_file
from course_engagement.warehouse import is_lock_conflict, table_exists

MART = "analytics.mart_course_engagement"
RECONCILIATION = "analytics.mart_event_reconciliation"
CATALOGUE = "analytics.base_raw__courses"
HISTORY = "analytics.pipeline_run_history"
KEY_COLUMNS = ("course_id", "course_title", "learners", "active_learners", "active_learners_30d")

MAX_COURSE_LOSS_ENV = "COURSE_ENGAGEMENT_MAX_COURSE_LOSS_SHARE"
MAX_LEARNER_LOSS_ENV = "COURSE_ENGAGEMENT_MAX_LEARNER_LOSS_SHARE"
MAX_ACTIVE_LEARNER_LOSS_ENV = "COURSE_ENGAGEMENT_MAX_ACTIVE_LEARNER_LOSS_SHARE"
MAX_QUIZ_LOSS_ENV = "COURSE_ENGAGEMENT_MAX_QUIZ_LOSS_SHARE"
MAX_VIDEO_LOSS_ENV = "COURSE_ENGAGEMENT_MAX_VIDEO_LOSS_SHARE"
MAX_COUNTED_EVENT_LOSS_ENV = "COURSE_ENGAGEMENT_MAX_COUNTED_EVENT_LOSS_SHARE"


class QualityGateError(RuntimeError):
    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        lines = "\n".join(f"  - {failure}" for failure in failures)
        super().__init__(f"quality gate failed on {MART}, nothing will be exported:\n{lines}")


class DatabaseBusyError(RuntimeError):
    """Another process holds the DuckDB file; worth a retry once it lets go of it."""


def connect(
    db_path: Path, purpose: str, *, read_only: bool = True, spark_warehouse: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection, or a `DatabaseBusyError` that says who to wait for.

    With `spark_warehouse` (the Spark engine) the `analytics` tables are Spark's, read from its
    warehouse (`spark_marts`), and the file is attached read-only for its raw tables."""
    try:
        if spark_warehouse is not None:
            return spark_marts.connect(db_path, spark_warehouse)
        return duckdb.connect(str(db_path), read_only=read_only)
    except duckdb.IOException as error:
        if not is_lock_conflict(error):
            raise
        holder = "for writing" if read_only else "open"
        raise DatabaseBusyError(
            f"cannot open {db_path} {'read-only' if read_only else 'for writing'} to {purpose}: "
            f"another process holds it {holder} ({error}). The task retries; if it keeps "
            "failing, find that process (dbt, the loader, a notebook) and let it finish or "
            "close it"
        ) from None


def connect_read_only(
    db_path: Path, purpose: str, spark_warehouse: Path | None = None
) -> duckdb.DuckDBPyConnection:
    return connect(db_path, purpose, read_only=True, spark_warehouse=spark_warehouse)


@dataclass(frozen=True)
class Check:
    name: str
    sql: str  # returns one row: (number of offending rows, sample of offending keys)
    key: str = "course_id"  # what the sample lists


def _checks() -> list[Check]:
    checks = [
        Check(
            "mart has at least one row",
            f"select (count(*) = 0)::int, null from {MART}",
        ),
        Check(
            "one row per catalogue course",
            sql_file(__file__, "check_one_row_per_course.sql", mart=MART, catalogue=CATALOGUE),
        ),
        Check(
            "active_learners_30d <= active_learners <= learners",
            sql_file(__file__, "check_active_within_learners.sql", mart=MART),
        ),
        Check(
            "one as_of_date in the mart",
            sql_file(__file__, "check_one_as_of_date.sql", mart=MART),
            key="as_of_date",
        ),
    ]
    for column in KEY_COLUMNS:
        checks.append(
            Check(
                f"no null {column}",
                f"""select count(*), string_agg(coalesce(course_id::varchar, 'null'), ', ')
                from {MART} where {column} is null""",
            )
        )
    return checks


def failed_checks(con: duckdb.DuckDBPyConnection) -> list[str]:
    failures = []
    for check in _checks():
        offending, sample = con.execute(check.sql).fetchone()
        if offending:
            where = f" ({check.key} {sample})" if sample else ""
            failures.append(f"{check.name}: {offending} offending row(s){where}")
    return failures


# ---------------------------------------------------------------------------------------------
# Key figures of each published report, and the comparison with the previous one.


@dataclass(frozen=True)
class RunFigures:
    """What a report says in a few numbers; one row of `analytics.pipeline_run_history`."""

    report_date: dt.date
    courses: int
    learners: int
    active_learners: int
    active_learners_30d: int
    total_quizzes_completed: int
    total_videos_completed: int
    counted_events: int | None  # None: a report recorded before the history kept it


def mart_figures(con: duckdb.DuckDBPyConnection) -> RunFigures | None:
    """The mart's key figures; None when it is empty (it has no date then)."""
    figures = sql_file(__file__, "mart_figures.sql", mart=MART, reconciliation=RECONCILIATION)
    row = con.execute(figures).fetchone()
    return None if row[0] is None else RunFigures(*row)


def previous_run(con: duckdb.DuckDBPyConnection, report_date: dt.date) -> RunFigures | None:
    """The latest published report for a date before `report_date` (never the same date)."""
    if not table_exists(con, HISTORY):
        return None
    schema, table = HISTORY.split(".")
    has_counted = con.execute(
        "select count(*) from duckdb_columns() "
        "where schema_name = ? and table_name = ? and column_name = 'counted_events'",
        [schema, table],
    ).fetchone()[0]
    counted = "counted_events" if has_counted else "null"  # a history from before the column
    row = con.execute(
        f"""select report_date, courses, learners, active_learners, active_learners_30d,
                   total_quizzes_completed, total_videos_completed, {counted}
            from {HISTORY} where report_date < ? order by report_date desc limit 1""",
        [report_date],
    ).fetchone()
    return None if row is None else RunFigures(*row)


def loss_failures(current: RunFigures, previous: RunFigures | None) -> list[str]:
    """A failure per key figure that fell by more than its allowed share since `previous`."""
    if previous is None:
        return []
    failures = []
    compared = (
        ("courses", MAX_COURSE_LOSS_ENV, previous.courses, current.courses),
        (
            "learners (summed over courses)",
            MAX_LEARNER_LOSS_ENV,
            previous.learners,
            current.learners,
        ),
        (
            "active learners (summed over courses)",
            MAX_ACTIVE_LEARNER_LOSS_ENV,
            previous.active_learners,
            current.active_learners,
        ),
        (
            "total quizzes completed (summed over courses)",
            MAX_QUIZ_LOSS_ENV,
            previous.total_quizzes_completed,
            current.total_quizzes_completed,
        ),
        (
            "total videos completed (summed over courses)",
            MAX_VIDEO_LOSS_ENV,
            previous.total_videos_completed,
            current.total_videos_completed,
        ),
        (
            f"counted events ({RECONCILIATION})",
            MAX_COUNTED_EVENT_LOSS_ENV,
            previous.counted_events,
            current.counted_events,
        ),
    )
    for label, variable, before, now in compared:
        if before is None or now is None:  # not recorded for the previous report
            continue
        allowed = share_from_env(variable, DEFAULT_MAX_LOSS_SHARES[variable])
        lost = (before - now) / before if before else 0.0
        if lost > allowed:
            failures.append(
                f"{label} fell from {before} to {now} ({lost:.2%} lost) since the report of "
                f"{previous.report_date}, above {variable} = {allowed:.2%}. If the drop is "
                f"real, rerun this date with {variable}=1"
            )
    return failures


def check_mart(db_path: Path, spark_warehouse: Path | None = None) -> int:
    """Run every check; raise `QualityGateError` naming all failures, else return the row count.

    `spark_warehouse`: the marts are the Spark build's (see `connect`)."""
    with connect_read_only(db_path, "run the quality gate", spark_warehouse) as con:
        try:
            failures = failed_checks(con)
            figures = mart_figures(con)
        except duckdb.CatalogException as error:
            raise QualityGateError([f"mart or catalogue missing: {error}"]) from None
        if figures is not None:
            failures += loss_failures(figures, previous_run(con, figures.report_date))
        rows = figures.courses if figures else 0
    if failures:
        raise QualityGateError(failures)
    print(f"quality gate passed: {rows} courses in {MART}")
    return rows


def record_run(db_path: Path, report_path: Path, spark_warehouse: Path | None = None) -> RunFigures:
    """Remember a published report's key figures (one row per report date, replaced on rerun).

    Called only once the report is in place, so the history lists published reports only. The
    history is kept in the DuckDB file on either engine; `spark_warehouse` as in `check_mart`.
    """
    digest = hashlib.sha256(report_path.read_bytes()).hexdigest()
    with connect_read_only(db_path, "read the published mart", spark_warehouse) as con:
        figures = mart_figures(con)
    if figures is None:
        raise QualityGateError([f"{MART} is empty; nothing to record for {report_path}"])
    with connect(db_path, "record the published report", read_only=False) as con:
        con.begin()
        schema = HISTORY.split(".")[0]
        con.execute(sql_file(__file__, "run_history_table.sql", history=HISTORY, schema=schema))
        con.execute(
            sql_file(__file__, "record_run.sql", history=HISTORY),
            asdict(figures)
            | {
                "report_file": report_path.name,
                "report_sha256": digest,
                "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            },
        )
        con.commit()
    return figures
