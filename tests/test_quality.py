"""The quality gate on marts built directly in a test database."""

from __future__ import annotations

import duckdb
import pytest

from course_engagement.quality import QualityGateError, check_mart

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
