"""What the daily page shows, read from the marts (read-only) and the previous published report.

Everything here is ordered explicitly, so the same marts and the same reports folder give the
same `PageData`, and so the same page bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from course_engagement.publishing.export import MART, report_path
from course_engagement.validation import validate_date

ACTIVITY_DAYS = 90  # the active-learners chart: the 90 days ending with the as-of date
# Worst first: nobody active in 30 days, then falling, then the rest, best last.
HEALTH_ORDER = ("dormant", "declining", "steady", "new", "growing")
HEADLINE_COLUMNS = ("learners", "active_learners", "active_learners_30d")
_REPORT_NAME = re.compile(r"^course_engagement_(\d{4}-\d{2}-\d{2})\.csv$")


class PageError(RuntimeError):
    """The page cannot be built from these inputs; a retry will not change that."""


@dataclass(frozen=True)
class Headline:
    """Sums over the report's courses (a learner of two courses counts twice, as in quality.py)."""

    learners: int
    active_learners: int
    active_learners_30d: int

    @property
    def engagement_rate(self) -> float | None:
        return self.active_learners / self.learners if self.learners else None


@dataclass(frozen=True)
class PreviousReport:
    report_date: dt.date
    path: Path
    headline: Headline


@dataclass(frozen=True)
class Course:
    course_id: int
    title: str
    category: str | None
    learners: int
    active_learners: int
    active_learners_30d: int
    engagement_rate: float | None


@dataclass(frozen=True)
class CourseHealth:
    course_id: int
    title: str
    category: str | None
    week_start: dt.date
    active_learners: int
    active_learners_previous_week: int
    active_learners_30d: int
    active_learners_change: float | None
    health_status: str


@dataclass(frozen=True)
class PageData:
    as_of: dt.date
    headline: Headline
    previous: PreviousReport | None
    activity: tuple[tuple[dt.date, int, int, int], ...]  # date, daily, weekly, monthly
    retention: tuple[tuple[dt.date, int, int, int, float], ...]  # cohort, week, of, active, rate
    courses: tuple[Course, ...]  # by engagement, highest first; no learners last
    health: tuple[CourseHealth, ...]  # the latest week, worst first
    rejects: tuple[tuple[str, int], ...]  # file name, rejected lines (currently loaded rows)
    exclusions: tuple[tuple[str, int], ...]  # reason, raw event rows not counted
    counted_events: int
    last_event: dt.datetime | None


def previous_report(reports_dir: Path, ds: str) -> PreviousReport | None:
    """The newest `course_engagement_<date>.csv` in `reports_dir` dated before `ds`, summed."""
    as_of = validate_date(ds)
    dated = []
    for path in reports_dir.glob("course_engagement_*.csv"):
        match = _REPORT_NAME.match(path.name)
        if match:
            try:
                dated.append((validate_date(match[1]), path))
            except ValueError:  # course_engagement_2026-02-30.csv: not a report we wrote
                continue
    earlier = sorted(item for item in dated if item[0] < as_of)
    if not earlier:
        return None
    report_date, path = earlier[-1]
    return PreviousReport(report_date, path, read_headline(path))


def read_headline(path: Path) -> Headline:
    """Sum the headline columns of a published CSV report; a bad cell names its line and column."""
    sums = dict.fromkeys(HEADLINE_COLUMNS, 0)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in HEADLINE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise PageError(f"{path}: line 1: the header lacks column(s) {', '.join(missing)}")
        for row in reader:
            for column in HEADLINE_COLUMNS:
                text = row[column]
                if text is None or not text.isdigit():
                    raise PageError(
                        f"{path}: line {reader.line_num}: column {column}: {text!r} is not a "
                        "whole number; this is not a report the pipeline wrote, move it away"
                    )
                sums[column] += int(text)
    return Headline(**sums)


def _headline(con: duckdb.DuckDBPyConnection) -> Headline:
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in HEADLINE_COLUMNS)
    return Headline(*con.execute(f"select {sums} from {MART}").fetchone())


def read_page_data(con: duckdb.DuckDBPyConnection, reports_dir: Path, ds: str) -> PageData:
    as_of = validate_date(ds)
    query = f"select string_agg(distinct as_of_date::varchar, ', ') from {MART}"
    (dates,) = con.execute(query).fetchone()
    if dates != as_of.isoformat():
        raise PageError(
            f"{MART} is built as of {dates or 'nothing (empty)'}, not {as_of}; rebuild the marts "
            f"for {as_of} before publishing its page"
        )
    first_day = as_of - dt.timedelta(days=ACTIVITY_DAYS - 1)
    activity = con.execute(
        "select activity_date, daily_active_learners, weekly_active_learners, "
        "monthly_active_learners from analytics.mart_active_learners_daily "
        "where activity_date between ? and ? order by activity_date",
        [first_day, as_of],
    ).fetchall()
    retention = con.execute(
        "select cohort_week, weeks_since_enrolment, cohort_learners, active_learners, "
        "retention_rate from analytics.mart_cohort_retention_weekly order by all"
    ).fetchall()
    courses = con.execute(
        "select course_id, course_title, category, learners, active_learners, "
        f"active_learners_30d, engagement_rate from {MART} "
        "order by engagement_rate desc nulls last, learners desc, course_id"
    ).fetchall()
    health = con.execute(
        "select h.course_id, m.course_title, m.category, h.week_start, h.active_learners, "
        "h.active_learners_previous_week, h.active_learners_30d, h.active_learners_change, "
        f"h.health_status from analytics.mart_course_health_weekly h join {MART} m using "
        "(course_id) where h.week_start = (select max(week_start) "
        "from analytics.mart_course_health_weekly)"
    ).fetchall()
    rank = {status: i for i, status in enumerate(HEALTH_ORDER)}
    health.sort(key=lambda r: (rank.get(r[-1], len(rank)), r[6], r[4], r[0]))
    rejects = con.execute(
        "select file_name, count(*) from raw.load_rejects group by file_name order by file_name"
    ).fetchall()
    reasons = con.execute(
        "select reason, event_rows, is_counted from analytics.mart_event_reconciliation "
        "order by reason_order"
    ).fetchall()
    (last_event,) = con.execute(f"select max(last_activity) from {MART}").fetchone()
    return PageData(
        as_of=as_of,
        headline=_headline(con),
        previous=previous_report(reports_dir, ds),
        activity=tuple(activity),
        retention=tuple(retention),
        courses=tuple(Course(*row) for row in courses),
        health=tuple(CourseHealth(*row) for row in health),
        rejects=tuple(rejects),
        exclusions=tuple((reason, rows) for reason, rows, counted in reasons if not counted),
        counted_events=sum(rows for _, rows, counted in reasons if counted),
        last_event=last_event,
    )


def page_path(reports_dir: Path, ds: str) -> Path:
    return report_path(reports_dir, ds).with_suffix(".html")
