"""The report export: atomic, reproducible, validated, never world-writable."""

from __future__ import annotations

import stat

import duckdb
import pytest

from course_engagement.export import REPORT_COLUMNS, export_report


@pytest.fixture
def mart_db(tmp_path):
    db = tmp_path / "mart.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema analytics")
        con.execute(
            """
            create table analytics.mart_course_engagement as
            select * from (values
                (2, 'Beta, with comma', 'Design', 'beginner', 'Pub', 0, 0, 0, 0, 0,
                 null::timestamp, null::timestamp, null::double, date '2026-10-31'),
                (1, 'Alpha', 'Policy', 'advanced', 'Pub', 3, 2, 1, 4, 5,
                 timestamp '2026-01-02 03:04:05', timestamp '2026-10-30 23:59:59', 2 / 3,
                 date '2026-10-31')
            ) t(course_id, course_title, category, level, publisher, learners,
                active_learners, active_learners_30d, total_quizzes_completed,
                total_videos_completed, first_activity, last_activity, engagement_rate,
                as_of_date)
            """
        )
    return db


def test_report_has_a_header_and_rows_in_course_order(mart_db, tmp_path):
    report = export_report(mart_db, tmp_path / "reports", "2026-10-31")
    assert report.path == tmp_path / "reports" / "course_engagement_2026-10-31.csv"
    assert report.rows == 2
    assert report.path.read_text().splitlines() == [
        ",".join(REPORT_COLUMNS),
        "1,Alpha,Policy,advanced,Pub,3,2,1,4,5,2026-01-02 03:04:05,2026-10-30 23:59:59,"
        "0.6666666666666666,2026-10-31",
        '2,"Beta, with comma",Design,beginner,Pub,0,0,0,0,0,,,,2026-10-31',
    ]


def test_rerun_gives_identical_bytes_and_leaves_no_temporary_file(mart_db, tmp_path):
    first = export_report(mart_db, tmp_path / "reports", "2026-10-31").path.read_bytes()
    second = export_report(mart_db, tmp_path / "reports", "2026-10-31").path.read_bytes()
    assert first == second
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "course_engagement_2026-10-31.csv"
    ]


def test_report_is_not_world_writable(mart_db, tmp_path):
    report = export_report(mart_db, tmp_path / "reports", "2026-10-31")
    assert stat.S_IMODE(report.path.stat().st_mode) == 0o644


@pytest.mark.parametrize("ds", ["../../escape", "2026-10-31/../../x", "2026-10-31' or 1=1"])
def test_a_crafted_date_cannot_name_another_file(mart_db, tmp_path, ds):
    with pytest.raises(ValueError):
        export_report(mart_db, tmp_path / "reports", ds)
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def test_a_failed_export_leaves_the_previous_report_untouched(mart_db, tmp_path):
    reports = tmp_path / "reports"
    good = export_report(mart_db, reports, "2026-10-31").path.read_bytes()
    with duckdb.connect(str(mart_db)) as con:
        con.execute("drop table analytics.mart_course_engagement")
    with pytest.raises(duckdb.CatalogException):
        export_report(mart_db, reports, "2026-10-31")
    assert (reports / "course_engagement_2026-10-31.csv").read_bytes() == good
    assert len(list(reports.iterdir())) == 1
