"""Real DAG runs through Airflow (`course-engagement run`), on a temporary database and folder.

Three runs in order: a date end to end, the same date again (identical bytes), then data that
breaks a base-model test (the run stops at run_base and publishes nothing).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import shutil

import duckdb
import pytest
from test_dag_integrity import CHAIN

from course_engagement.orchestration.local_airflow import run
from course_engagement.publishing.export import REPORT_COLUMNS, TIME_SERIES_MARTS

DATE = "2026-10-31"


def started_tasks(log_text: str) -> list[str]:
    return re.findall(r"\[DAG TEST\] starting task_id=(\w+)", log_text)


@pytest.fixture(scope="module")
def first_run_output(airflow_env):
    """The first run's report path and what `course-engagement run` printed."""
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert run(["--date", DATE]) == 0
    reports = airflow_env["COURSE_ENGAGEMENT_OUTPUT_DIR"] / "reports"
    return reports / f"course_engagement_{DATE}.csv", printed.getvalue()


@pytest.fixture(scope="module")
def first_run(first_run_output):
    return first_run_output[0]


def test_a_run_prints_the_page_path_next_to_the_report(first_run_output):
    report, printed = first_run_output
    page = report.with_suffix(".html")
    assert f"report: {report} (60 courses)\npage:   {page}\n" in printed
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_a_run_logs_every_task_and_the_finished_run_before_its_fast_exit(first_run, airflow_env):
    output = airflow_env["COURSE_ENGAGEMENT_OUTPUT_DIR"]
    log = (output / "logs" / f"airflow_dags_test_{DATE}.log").read_text()
    assert started_tasks(log) == CHAIN
    assert "DagRun Finished: dag_id=course_engagement_pipeline" in log
    assert "state=success" in log.split("DagRun Finished")[1]


def test_only_a_runs_first_layer_parses_the_project_and_the_parse_is_kept(first_run, airflow_env):
    output = airflow_env["COURSE_ENGAGEMENT_OUTPUT_DIR"]
    logs = {
        log.parent.parent.name: log.read_text()
        for log in (output / "dbt_runs").glob(f"{DATE}_*/*/logs/dbt.log")
    }
    assert sorted(logs) == ["base", "intermediate", "marts"]
    assert [
        layer for layer, text in sorted(logs.items()) if "Unable to do partial parsing" in text
    ] == ["base"]
    assert (output / "dbt_parse" / "partial_parse.msgpack").stat().st_size > 0


def test_a_run_writes_the_report_equal_to_the_mart_row_for_row(first_run, airflow_env):
    with first_run.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(REPORT_COLUMNS)
    with duckdb.connect(str(airflow_env["COURSE_ENGAGEMENT_DB"]), read_only=True) as con:
        mart = con.execute(
            f"select {', '.join(REPORT_COLUMNS)} from analytics.mart_course_engagement "
            "order by course_id"
        ).fetchall()
        catalogue = con.execute("select count(distinct course_id) from raw.courses").fetchone()[0]
    assert len(rows) - 1 == len(mart) == catalogue == 60
    for line, record in zip(rows[1:], mart, strict=True):
        for text, value in zip(line, record, strict=True):
            if value is None:
                assert text == ""
            elif isinstance(value, float):
                assert float(text) == value
            else:
                assert text == str(value)
    assert {line[-1] for line in rows[1:]} == {DATE}


def test_a_run_writes_each_time_series_mart_beside_the_report(first_run, airflow_env):
    with duckdb.connect(str(airflow_env["COURSE_ENGAGEMENT_DB"]), read_only=True) as con:
        for mart in TIME_SERIES_MARTS:
            path = first_run.parent / f"{mart.removeprefix('mart_')}_{DATE}.csv"
            with path.open(newline="") as handle:
                rows = list(csv.reader(handle))
            relation = con.execute(f"select * from analytics.{mart} order by all")
            assert rows[0] == [column[0] for column in relation.description]
            records = relation.fetchall()
            assert records, mart
            assert rows[1:] == [["" if v is None else str(v) for v in r] for r in records]


# A second whole DAG run (~80 s): in CI's extended run, to keep `uv run pytest` under 8 min.
@pytest.mark.extended
def test_rerunning_the_same_date_gives_identical_bytes(first_run):
    reports = sorted(first_run.parent.glob(f"*_{DATE}.*"))
    assert len(reports) == 2 + len(TIME_SERIES_MARTS)  # the CSVs and the page
    before = [path.read_bytes() for path in reports]
    assert run(["--date", DATE]) == 0
    assert [path.read_bytes() for path in reports] == before


def test_data_breaking_a_base_test_stops_at_run_base_and_publishes_nothing(
    first_run, airflow_env, tmp_path, monkeypatch
):
    earlier_report = first_run.read_bytes()
    with duckdb.connect(str(airflow_env["COURSE_ENGAGEMENT_DB"]), read_only=True) as con:
        mart_before = con.execute(
            "select * from analytics.mart_course_engagement order by course_id"
        ).fetchall()
    broken = tmp_path / "data"
    shutil.copytree(airflow_env["COURSE_ENGAGEMENT_DATA_DIR"], broken)
    courses = broken / "raw_courses.csv"
    lines = courses.read_text().splitlines(keepends=True)
    courses.write_text("".join([*lines, lines[1]]))  # course 1 twice: base PK test fails
    monkeypatch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(broken))

    with pytest.raises(SystemExit, match="dags test course_engagement_pipeline 2026-10-30"):
        run(["--date", "2026-10-30"])

    output = airflow_env["COURSE_ENGAGEMENT_OUTPUT_DIR"]
    log = (output / "logs" / "airflow_dags_test_2026-10-30.log").read_text()
    assert started_tasks(log) == ["load_raw", "run_base"]
    assert "unique_base_raw__courses_course_id" in log
    assert "[fail] (1 failing rows)" in log
    assert not (output / "reports" / "course_engagement_2026-10-30.csv").exists()
    assert not (output / "reports" / "course_engagement_2026-10-30.html").exists()
    assert first_run.read_bytes() == earlier_report
    with duckdb.connect(str(airflow_env["COURSE_ENGAGEMENT_DB"]), read_only=True) as con:
        mart_after = con.execute(
            "select * from analytics.mart_course_engagement order by course_id"
        ).fetchall()
    assert mart_after == mart_before
