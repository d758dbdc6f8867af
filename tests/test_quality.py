"""The quality gate on marts built directly in a test database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pytest

from course_engagement.publishing import quality
from course_engagement.publishing.quality import QualityGateError, RunFigures, check_mart

COLUMNS = "course_id, course_title, learners, active_learners, active_learners_30d"


def build(path, courses: list[int], mart_rows: list[tuple]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema analytics")
        con.execute("create table analytics.base_raw__courses (course_id bigint)")
        con.executemany(
            "insert into analytics.base_raw__courses values (?)", [[c] for c in courses]
        )
        con.execute(
            "create table analytics.mart_course_engagement (course_id bigint, "
            "course_title varchar, learners int, active_learners int, active_learners_30d int, "
            "total_quizzes_completed int default 0, total_videos_completed int default 0, "
            "as_of_date date default '2026-10-31')"
        )
        con.execute(
            "create table analytics.mart_event_reconciliation as "
            "select * from (values ('counted', 7::bigint), ('future', 1)) as t(reason, event_rows)"
        )
        if mart_rows:
            con.executemany(
                f"insert into analytics.mart_course_engagement ({COLUMNS}) values (?, ?, ?, ?, ?)",
                mart_rows,
            )


def test_a_sound_mart_passes_and_returns_its_row_count(tmp_path):
    db = tmp_path / "ok.duckdb"
    build(db, [1, 2], [(1, "A", 3, 2, 1), (2, "B", 0, 0, 0)])
    assert check_mart(db) == 2


def test_null_key_and_active_above_learners_are_both_named(tmp_path):
    db = tmp_path / "bad.duckdb"
    build(db, [1, 2, 3], [(1, None, 3, 2, 1), (2, "B", 1, 2, 0), (3, "C", 5, 5, 5)])
    with pytest.raises(QualityGateError) as failure:
        check_mart(db)
    assert failure.value.failures == [
        "active_learners_30d <= active_learners <= learners: 1 offending row(s) (course_id 2)",
        "no null course_title: 1 offending row(s) (course_id 1)",
    ]


def test_missing_and_extra_courses_and_an_empty_mart_fail(tmp_path):
    db = tmp_path / "empty.duckdb"
    build(db, [1, 2], [])
    with pytest.raises(QualityGateError) as failure:
        check_mart(db)
    assert failure.value.failures == [
        "mart has at least one row: 1 offending row(s)",
        "one row per catalogue course: 2 offending row(s) (course_id 1, 2)",
    ]
    db2 = tmp_path / "extra.duckdb"
    build(db2, [1], [(1, "A", 1, 1, 1), (1, "A", 1, 1, 1), (9, "Z", 0, 0, 0)])
    with pytest.raises(QualityGateError) as failure:
        check_mart(db2)
    assert failure.value.failures == [
        "one row per catalogue course: 2 offending row(s) (course_id 1, 9)"
    ]


def test_a_missing_mart_fails_with_a_clear_message(tmp_path):
    db = tmp_path / "none.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(QualityGateError, match="mart or catalogue missing"):
        check_mart(db)


# ------------------------------------------------- comparison with the previous published report

MARCH_9 = RunFigures(dt.date(2026, 3, 9), 10, 100, 80, 40, 50, 60, 1000)


def _now(**changes: object) -> RunFigures:
    return dataclasses.replace(MARCH_9, report_date=dt.date(2026, 3, 10), **changes)


@pytest.fixture
def default_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in quality.DEFAULT_MAX_LOSS_SHARES:
        monkeypatch.delenv(variable, raising=False)


def test_any_fall_of_a_cumulative_total_fails_naming_it(default_shares) -> None:
    now = _now(
        active_learners=79,
        total_quizzes_completed=49,
        total_videos_completed=59,
        counted_events=999,
    )

    assert quality.loss_failures(now, MARCH_9) == [
        f"{label} fell from {before} to {after} ({share} lost) since the report of 2026-03-09, "
        f"above {variable} = 0.00%. If the drop is real, rerun this date with {variable}=1"
        for label, before, after, share, variable in (
            (
                "active learners (summed over courses)",
                80,
                79,
                "1.25%",
                quality.MAX_ACTIVE_LEARNER_LOSS_ENV,
            ),
            (
                "total quizzes completed (summed over courses)",
                50,
                49,
                "2.00%",
                quality.MAX_QUIZ_LOSS_ENV,
            ),
            (
                "total videos completed (summed over courses)",
                60,
                59,
                "1.67%",
                quality.MAX_VIDEO_LOSS_ENV,
            ),
            (
                "counted events (analytics.mart_event_reconciliation)",
                1000,
                999,
                "0.10%",
                quality.MAX_COUNTED_EVENT_LOSS_ENV,
            ),
        )
    ]


def test_courses_and_learners_may_still_fall_by_ten_percent(default_shares) -> None:
    assert quality.loss_failures(_now(courses=9, learners=90), MARCH_9) == []
    assert [f.split(" (")[0] for f in quality.loss_failures(_now(courses=8), MARCH_9)] == [
        "courses fell from 10 to 8"
    ]


def test_each_cumulative_total_has_its_own_threshold(default_shares, monkeypatch) -> None:
    monkeypatch.setenv(quality.MAX_QUIZ_LOSS_ENV, "0.02")
    now = _now(total_quizzes_completed=49, counted_events=999)

    assert [f.split(" fell")[0] for f in quality.loss_failures(now, MARCH_9)] == [
        "counted events (analytics.mart_event_reconciliation)"
    ]


def test_a_previous_report_without_counted_events_is_compared_on_the_rest(default_shares) -> None:
    previous = dataclasses.replace(MARCH_9, counted_events=None)

    assert quality.loss_failures(_now(counted_events=1), previous) == []


def test_an_old_history_table_is_read_and_migrated_on_the_next_record(tmp_path) -> None:
    db = tmp_path / "old.duckdb"
    build(db, [1], [(1, "A", 3, 2, 1)])
    with duckdb.connect(str(db)) as con:  # the history as recorded before counted_events
        con.execute(
            "create table analytics.pipeline_run_history (report_date date primary key, "
            "courses bigint not null, learners bigint not null, active_learners bigint not null, "
            "active_learners_30d bigint not null, total_quizzes_completed bigint not null, "
            "total_videos_completed bigint not null, report_file varchar not null, "
            "report_sha256 varchar not null, recorded_at timestamp not null)"
        )
        con.execute(
            "insert into analytics.pipeline_run_history values "
            "('2026-10-30', 1, 3, 2, 1, 0, 0, 'r.csv', 'x', '2026-10-30 23:00:00')"
        )
    with duckdb.connect(str(db), read_only=True) as con:
        assert quality.previous_run(con, dt.date(2026, 10, 31)) == RunFigures(
            dt.date(2026, 10, 30), 1, 3, 2, 1, 0, 0, None
        )
    assert check_mart(db) == 1
    report = tmp_path / "course_engagement_2026-10-31.csv"
    report.write_text("course_id\n1\n")

    quality.record_run(db, report)

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "select report_date::varchar, counted_events from analytics.pipeline_run_history "
            "order by 1"
        ).fetchall() == [("2026-10-30", None), ("2026-10-31", 7)]
