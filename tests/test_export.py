"""The report export: atomic, reproducible, validated, never world-writable."""

from __future__ import annotations

import csv
import stat

import duckdb
import pytest
from fake_marts import TWO_COURSES, create_engagement_mart

from course_engagement.publishing.export import (
    REPORT_COLUMNS,
    TIME_SERIES_MARTS,
    export_report,
    export_time_series,
)


@pytest.fixture
def mart_db(tmp_path):
    db = tmp_path / "mart.duckdb"
    with duckdb.connect(str(db)) as con:
        create_engagement_mart(
            con,
            TWO_COURSES,
        )
    return db


# The columns the fixture fills, as the report writes them.
FILLED = (
    "course_id,course_title,category,level,publisher,learners,active_learners,"
    "active_learners_30d,total_quizzes_completed,total_videos_completed,first_activity,"
    "last_activity,engagement_rate,as_of_date"
).split(",")


def test_report_has_a_header_and_rows_in_course_order(mart_db, tmp_path):
    report = export_report(mart_db, tmp_path / "reports", "2026-10-31")
    assert report.path == tmp_path / "reports" / "course_engagement_2026-10-31.csv"
    assert report.rows == 2
    text = report.path.read_text()
    assert text.splitlines()[0] == ",".join(REPORT_COLUMNS)
    with report.path.open(newline="") as handle:
        rows = [",".join(row[c] for c in FILLED) for row in csv.DictReader(handle)]
    assert rows == [
        "1,Alpha,Policy,advanced,Pub,3,2,1,4,5,2026-01-02 03:04:05,2026-10-30 23:59:59,"
        "0.6666666666666666,2026-10-31",
        "2,Beta, with comma,Design,beginner,Pub,0,0,0,0,0,,,,2026-10-31",
    ]
    assert '\n2,"Beta, with comma",' in text  # a comma in a text cell is quoted


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


def _mart_with_titles(db, rows) -> None:
    """A mart whose (course_id, course_title, category, engagement_rate) rows are `rows`."""
    placeholders = ", ".join("(?, ?, ?, ?)" for _ in rows)
    with duckdb.connect(str(db)) as con:
        create_engagement_mart(
            con,
            "select *, 'beginner' as level, 'Pub' as publisher, 1 as learners, "
            "date '2026-10-31' as as_of_date "
            f"from (values {placeholders}) t(course_id, course_title, category, engagement_rate)",
            [value for row in rows for value in row],
        )


def test_text_cells_that_a_spreadsheet_would_run_get_one_leading_quote(tmp_path, capsys):
    db = tmp_path / "mart.duckdb"
    titles = ["=HYPERLINK(x)", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "'quoted", "Plain -x"]
    _mart_with_titles(db, [(i, t, "-Design", -0.5) for i, t in enumerate(titles, start=1)])

    report = export_report(db, tmp_path / "reports", "2026-10-31")

    with report.path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["course_title"] for row in rows] == [
        "'=HYPERLINK(x)", "'+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rCR", "''quoted", "Plain -x"
    ]  # fmt: skip
    assert {row["category"] for row in rows} == {"'-Design"}
    assert {row["engagement_rate"] for row in rows} == {"-0.5"}  # a number is never prefixed
    assert [row["course_id"] for row in rows] == [str(i) for i in range(1, 9)]
    assert [t[1:] for t in (row["course_title"] for row in rows[:7])] == titles[:7]  # reversible
    assert report.replaced_cells == ()
    assert "warning" not in capsys.readouterr().out


def test_control_characters_become_replacement_characters_with_a_warning(tmp_path, capsys):
    db = tmp_path / "mart.duckdb"
    _mart_with_titles(
        db,
        [
            (1, "Nul\x00byte", "Design", 0.5),
            (2, "Line\nbreak and tab\t", "Esc\x1b", 0.5),
            (3, "\x07=bell first", "Design", 0.5),
        ],
    )

    report = export_report(db, tmp_path / "reports", "2026-10-31")

    with report.path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["course_title"], row["category"]) for row in rows] == [
        ("Nul\ufffdbyte", "Design"),
        ("Line\nbreak and tab\t", "Esc\ufffd"),
        ("\ufffd=bell first", "Design"),
    ]
    assert report.replaced_cells == (
        "course 1 course_title",
        "course 3 course_title",
        "course 2 category",
    )
    assert capsys.readouterr().out.splitlines()[0] == (
        "warning: course_engagement_2026-10-31.csv: control characters replaced by U+FFFD in "
        "3 cell(s): course 1 course_title; course 3 course_title; course 2 category; "
        "fix them in the source export"
    )


@pytest.fixture
def time_series_db(mart_db):
    with duckdb.connect(str(mart_db)) as con:
        con.execute(
            """
            create table analytics.mart_active_learners_daily as
            select * from (values
                (date '2026-10-31', 0::bigint, 1::bigint, 2::bigint, 0.0::double),
                (date '2026-10-30', 1, 1, 2, 0.5),
                (date '2026-10-29', 1, 1, 1, 1.0)
            ) t(activity_date, daily_active_learners, weekly_active_learners,
                monthly_active_learners, stickiness)
            """
        )
        con.execute(
            """
            create table analytics.mart_cohort_retention_weekly as
            select * from (values
                (date '2026-10-26', 0, 2::bigint, 0::bigint, 0.0::double),
                (date '2026-10-19', 1, 3, 1, 1 / 3),
                (date '2026-10-19', 0, 3, 3, 1.0)
            ) t(cohort_week, weeks_since_enrolment, cohort_learners, active_learners,
                retention_rate)
            """
        )
        con.execute(
            """
            create table analytics.mart_course_health_weekly as
            select * from (values
                (2, date '2026-10-26', date '2026-10-31', 1, 0, 0, 0, 0, 0, null::double,
                 null::double, 'dormant', date '2026-10-31'),
                (1, date '2026-10-26', date '2026-10-31', 4, 2, 1, 3, 5, 6, 1.5, 1 / 3,
                 'growing', date '2026-10-31')
            ) t(course_id, week_start, week_end_date, learners, active_learners,
                active_learners_previous_week, active_learners_30d, quizzes_completed,
                videos_completed, active_learners_baseline, active_learners_change,
                health_status, as_of_date)
            """
        )
    return mart_db


def test_time_series_reports_are_written_beside_the_report_in_key_order(time_series_db, tmp_path):
    reports = export_time_series(time_series_db, tmp_path / "reports", "2026-10-31")
    assert [(r.path.name, r.rows) for r in reports] == [
        ("active_learners_daily_2026-10-31.csv", 3),
        ("cohort_retention_weekly_2026-10-31.csv", 3),
        ("course_health_weekly_2026-10-31.csv", 2),
    ]
    assert reports[0].path.read_text().splitlines() == [
        "activity_date,daily_active_learners,weekly_active_learners,monthly_active_learners,"
        "stickiness",
        "2026-10-29,1,1,1,1.0",
        "2026-10-30,1,1,2,0.5",
        "2026-10-31,0,1,2,0.0",
    ]
    assert reports[1].path.read_text().splitlines() == [
        "cohort_week,weeks_since_enrolment,cohort_learners,active_learners,retention_rate",
        "2026-10-19,0,3,3,1.0",
        "2026-10-19,1,3,1,0.3333333333333333",
        "2026-10-26,0,2,0,0.0",
    ]
    assert reports[2].path.read_text().splitlines() == [
        "course_id,week_start,week_end_date,learners,active_learners,"
        "active_learners_previous_week,active_learners_30d,quizzes_completed,videos_completed,"
        "active_learners_baseline,active_learners_change,health_status,as_of_date",
        "1,2026-10-26,2026-10-31,4,2,1,3,5,6,1.5,0.3333333333333333,growing,2026-10-31",
        "2,2026-10-26,2026-10-31,1,0,0,0,0,0,,,dormant,2026-10-31",
    ]
    assert {stat.S_IMODE(r.path.stat().st_mode) for r in reports} == {0o644}


def test_time_series_rerun_gives_identical_bytes_and_leaves_no_temporary_file(
    time_series_db, tmp_path
):
    first = [
        r.path.read_bytes() for r in export_time_series(time_series_db, tmp_path, "2026-10-31")
    ]
    second = [
        r.path.read_bytes() for r in export_time_series(time_series_db, tmp_path, "2026-10-31")
    ]
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "active_learners_daily_2026-10-31.csv",
        "cohort_retention_weekly_2026-10-31.csv",
        "course_health_weekly_2026-10-31.csv",
        "mart.duckdb",
    ]


def test_every_time_series_mart_is_exported_under_its_name_without_mart(time_series_db, tmp_path):
    reports = export_time_series(time_series_db, tmp_path / "reports", "2026-10-31")
    assert [r.path.name for r in reports] == [
        f"{mart.removeprefix('mart_')}_2026-10-31.csv" for mart in TIME_SERIES_MARTS
    ]


def test_an_empty_time_series_mart_gives_a_header_only_file(time_series_db, tmp_path):
    with duckdb.connect(str(time_series_db)) as con:
        con.execute("delete from analytics.mart_active_learners_daily")
    daily, *_ = export_time_series(time_series_db, tmp_path / "reports", "2026-10-31")
    assert daily.rows == 0
    assert daily.path.read_text() == (
        "activity_date,daily_active_learners,weekly_active_learners,monthly_active_learners,"
        "stickiness\n"
    )


def test_a_missing_time_series_mart_keeps_the_previous_files(time_series_db, tmp_path):
    reports = tmp_path / "reports"
    daily, cohort, health = export_time_series(time_series_db, reports, "2026-10-31")
    before = cohort.path.read_bytes()
    with duckdb.connect(str(time_series_db)) as con:
        con.execute("drop table analytics.mart_cohort_retention_weekly")
    with pytest.raises(duckdb.CatalogException):
        export_time_series(time_series_db, reports, "2026-10-31")
    assert cohort.path.read_bytes() == before
    assert sorted(p.name for p in reports.iterdir()) == [
        daily.path.name,
        cohort.path.name,
        health.path.name,
    ]


def test_a_temporary_of_a_killed_time_series_export_is_removed(time_series_db, tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    stale = reports / ".active_learners_daily_2026-10-30.csv.999999999.x1.tmp"
    stale.write_text("half")
    export_time_series(time_series_db, reports, "2026-10-31")
    assert not stale.exists()
