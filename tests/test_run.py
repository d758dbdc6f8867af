"""`course-engagement run`'s summary: the report's row count and the top-ten table."""

from __future__ import annotations

import duckdb
from fake_marts import create_engagement_mart

from course_engagement.orchestration import local_airflow
from course_engagement.publishing.export import export_report
from course_engagement.settings import Settings

TITLES = ["Line\nbreak", "Carriage\r\nreturn", "Escape \x1b[31mred", "Plain"]


def _mart(db) -> None:
    with duckdb.connect(str(db)) as con:
        create_engagement_mart(
            con,
            "select i + 1 as course_id, ?[i + 1] as course_title, 'Design' as category, "
            "'beginner' as level, 'Pub' as publisher, 10 - i as learners, "
            "10 - i as active_learners, 10 - i as active_learners_30d, "
            "0 as total_quizzes_completed, 0 as total_videos_completed, "
            "null::timestamp as first_activity, null::timestamp as last_activity, "
            "0.5::double as engagement_rate, date '2026-10-31' as as_of_date "
            "from range(4) t(i)",
            [TITLES],
        )


def test_a_title_with_a_line_break_is_one_report_row(tmp_path):
    _mart(tmp_path / "mart.duckdb")
    report = export_report(tmp_path / "mart.duckdb", tmp_path / "reports", "2026-10-31")
    assert len(report.path.read_text().splitlines()) == 7  # what counting lines said
    assert local_airflow.count_report_rows(report.path) == 4


def test_the_top_ten_prints_each_course_on_one_line_with_titles_escaped(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "mart.duckdb"))
    _mart(tmp_path / "mart.duckdb")
    local_airflow.print_top_courses(Settings.from_env(), "2026-10-31")
    assert capsys.readouterr().out.splitlines() == [
        "",
        "top 4 courses by learners active in the 30 days to 2026-10-31:",
        "  course_id  course_title        learners  active  active_30d  engagement",
        "  1          Line\\nbreak         10        10      10          0.5       ",
        "  2          Carriage\\r\\nreturn  9         9       9           0.5       ",
        "  3          Escape \\x1b[31mred  8         8       8           0.5       ",
        "  4          Plain               7         7       7           0.5       ",
    ]
