"""The learner-day fact and the time-series marts equal a full refresh when a daily run also
changes who is a learner, after a missed run, and as of an earlier date.

test_incremental.py's day file is appended while the fact and the marts miss that run (only
the event models build), then the users and enrolments files change and everything is
reloaded, as a daily delivery does: a learner's new latest version says deleted, a new
enrolment makes a pair with earlier events a learner, an enrolment is cancelled. The build
that follows is as of end_date, three days after the fact's last run. A fresh database built
with `--full-refresh` on the same files must hold the same rows. Then both build as of an
earlier date (a backfill after a later run), and must agree again.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from dbt_harness import DbtRun
from test_incremental import (
    DAY_FILE,
    END,
    SAMPLE_DIR,
    _as_of,
    _date,
    _difference,
    _layer_builds,
    _rows_written,
    _write_events,
    recomputed,
)

from course_engagement.ingest.load_cli import main
from course_engagement.ingest.loader import load

TIME_SERIES = (
    "fct_learner_course_days",
    "mart_active_learners_daily",
    "mart_cohort_retention_weekly",
    "mart_course_health_weekly",
)
INCREMENTAL_MARTS = ("mart_active_learners_daily", "mart_cohort_retention_weekly")
BOOKKEEPING = ("load_batch_id", "changed_at", "is_removed")
HISTORY_AS_OF = END - dt.timedelta(days=3)
BACKFILL_AS_OF = END - dt.timedelta(days=10)
EVENT_MODELS = (
    "int_events__deduplicated int_load_batches__event_rows int_user_course__daily_activity"
)


@dataclass(frozen=True)
class LearnerChanges:
    deleted_user: int
    new_learner: tuple[int, int]
    cancelled: tuple[int, int]
    differences: dict[str, list[int]]  # per model, as of end_date
    backfill_differences: dict[str, list[int]]  # per model, as of the earlier date
    rewritten: tuple[int, int]  # learner-day rows the end_date run wrote, of all
    learner_days: dict[str, int]  # counting learner-days of the changed learners
    course_health_written: tuple[int, int]  # rows the end_date run wrote, of all
    backfill_course_health_written: tuple[int, int]  # rows the earlier date's run wrote
    recomputed: dict[str, dict[str, int]]  # per incremental mart, what the end_date run logged


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as handle:
        header, *rows = csv.reader(handle)
    return header, rows


def _learner_changes(data_dir: Path, events: list[list[str]]) -> tuple[int, tuple, tuple]:
    """Rewrite the users and enrolments files of `data_dir`: one learner deleted, one pair
    with events and no enrolment enrolled, one single enrolment of an active pair cancelled."""
    users_header, users = _read(data_dir / "raw_users.csv")
    header, enrolments = _read(data_dir / "raw_enrolments.csv")
    active_days: dict[tuple[str, str], int] = {}
    for row in events:
        if row[4] and row[1] and row[2]:  # a time, a user, a course
            active_days[row[1], row[2]] = active_days.get((row[1], row[2]), 0) + 1
    enrolled = [(row[1], row[2]) for row in enrolments]
    single_active = [
        row
        for row in enrolments
        if row[4] == "active"
        and enrolled.count((row[1], row[2])) == 1
        and active_days.get((row[1], row[2]), 0) > 5
    ]
    known_users = {row[0] for row in users}
    known_courses = {row[0] for row in _read(data_dir / "raw_courses.csv")[1]}
    cancelled, deleted = single_active[0], single_active[-1]
    new_pair = next(
        pair
        for pair in sorted(active_days)
        if pair not in enrolled
        and pair[0] in known_users
        and pair[1] in known_courses
        and pair[0] not in (cancelled[1], deleted[1])
    )
    latest = max(row for row in users if row[0] == deleted[1])
    users.append([*latest[:6], "2026-12-01 00:00:00", "true"])  # the newest version: deleted
    cancelled[4] = "cancelled"
    next_id = max(int(row[0]) for row in enrolments) + 1
    enrolments.append([str(next_id), *new_pair, "2025-01-01 00:00:00", "active"])
    _write_events(data_dir / "raw_users.csv", users_header, users)
    _write_events(data_dir / "raw_enrolments.csv", header, enrolments)
    return (
        int(deleted[1]),
        (int(new_pair[0]), int(new_pair[1])),
        (int(cancelled[1]), int(cancelled[2])),
    )


@dataclass(frozen=True)
class _Databases:  # what test_incremental._difference compares
    incremental: DbtRun
    fresh: DbtRun


def _compare(incremental: DbtRun, fresh: DbtRun) -> dict[str, list[int]]:
    pair = _Databases(incremental, fresh)
    return {
        model: _difference(pair, model, exclude=BOOKKEEPING if model.startswith("fct") else ())
        for model in TIME_SERIES
    }


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> LearnerChanges:
    root = tmp_path_factory.mktemp("incremental_learners")
    header, rows = _read(SAMPLE_DIR / "raw_events.csv")
    history = [row for row in rows if _date(row) != END]
    data_dir = root / "data"
    data_dir.mkdir()
    for name in ("raw_users.csv", "raw_courses.csv", "raw_enrolments.csv"):
        shutil.copyfile(SAMPLE_DIR / name, data_dir / name)
    _write_events(data_dir / "raw_events.csv", header, history)
    day_file = _write_events(root / DAY_FILE, header, [row for row in rows if _date(row) == END])
    incremental = DbtRun(root / "incremental.duckdb", root / "incremental")
    load(data_dir, incremental.db_path)
    incremental.dbt(["seed"], ["run", *_as_of(HISTORY_AS_OF)])
    # a run the fact and the marts miss: the event models take the day file, nothing else runs
    assert main(["--db", str(incremental.db_path), "--append", str(day_file)]) == 0
    incremental.dbt(["run", "--select", *EVENT_MODELS.split(), *_as_of(END)])
    deleted, new_learner, cancelled = _learner_changes(data_dir, rows)
    shutil.copyfile(day_file, data_dir / DAY_FILE)
    load(data_dir, incremental.db_path)  # the daily reload of users and enrolments
    fresh = DbtRun(root / "fresh.duckdb", root / "fresh")
    load(data_dir, fresh.db_path)

    with ThreadPoolExecutor(max_workers=2) as pool:
        builds = pool.submit(incremental.dbt, *_layer_builds(END))
        fresh.dbt(["seed"], ["run", "--full-refresh", *_as_of(END)])
        builds.result()
    differences = _compare(incremental, fresh)
    rewritten = incremental.query(
        "select count(*) filter (where changed_at = (select max(changed_at) "
        "from analytics.fct_learner_course_days)), count(*) from analytics.fct_learner_course_days"
    )[0]
    learner_days = {
        name: incremental.query(
            "select count(*) from analytics.fct_learner_course_days where not is_removed "
            f"and user_id = {user_id}" + (f" and course_id = {course_id}" if course_id else "")
        )[0][0]
        for name, (user_id, course_id) in (
            ("deleted", (deleted, None)),
            ("new_learner", new_learner),
            ("cancelled", cancelled),
        )
    }
    course_health_written = _rows_written(incremental, "mart_course_health_weekly")
    logged = {mart: recomputed(incremental, mart) for mart in INCREMENTAL_MARTS}
    with ThreadPoolExecutor(max_workers=2) as pool:
        builds = pool.submit(incremental.dbt, ["run", *_as_of(BACKFILL_AS_OF)])
        fresh.dbt(["run", "--full-refresh", *_as_of(BACKFILL_AS_OF)])
        builds.result()
    return LearnerChanges(
        deleted_user=deleted,
        new_learner=new_learner,
        cancelled=cancelled,
        differences=differences,
        backfill_differences=_compare(incremental, fresh),
        rewritten=rewritten,
        learner_days=learner_days,
        course_health_written=course_health_written,
        backfill_course_health_written=_rows_written(incremental, "mart_course_health_weekly"),
        recomputed=logged,
    )


@pytest.mark.parametrize("model", TIME_SERIES)
def test_learner_changes_after_a_missed_run_give_a_full_refresh(changes, model: str):
    assert changes.differences[model] == [0, 0]


@pytest.mark.parametrize("model", TIME_SERIES)
def test_an_earlier_as_of_date_after_a_later_one_gives_a_full_refresh(changes, model: str):
    assert changes.backfill_differences[model] == [0, 0]


def test_the_changed_learners_lost_or_gained_their_days(changes):
    assert changes.learner_days["deleted"] == 0
    assert changes.learner_days["cancelled"] == 0
    assert changes.learner_days["new_learner"] > 0


def test_the_run_rewrote_a_small_part_of_the_learner_days(changes):
    written, total = changes.rewritten
    assert 0 < written < total / 10


def test_the_course_health_mart_recomputed_a_small_part_after_the_learner_changes(changes):
    # the weeks the missed run's learner-days reach, the old as_of_date's week on, and every
    # course of the changed learners from their first week on (learners is a running count:
    # a learner lost or gained changes each later week of the course)
    written, total = changes.course_health_written
    assert 0 < written < total / 2


def test_the_course_health_mart_rebuilt_in_full_as_of_an_earlier_date(changes):
    written, total = changes.backfill_course_health_written
    assert written == total


def test_the_marts_took_their_incremental_path_after_the_missed_run(changes):
    # no full rebuild, though the changed learners' days reach every date and week of the
    # year (the deleted learner was active all year); the cohorts of the three changed
    # learners are recomputed in every week
    assert changes.recomputed == {
        "mart_active_learners_daily": {"dates": 365},
        "mart_cohort_retention_weekly": {"weeks of every cohort": 53, "cohorts in every week": 3},
    }
