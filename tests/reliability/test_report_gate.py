"""The quality gate against the previous report (case 10), on copies of the real fixture build.

`publish` runs the DAG's last two task bodies in the DAG's order: the quality gate, then the
export (which records the report in analytics.pipeline_run_history). A mart "that lost
courses" is made by deleting them from both the raw catalogue and the mart of a copy, so every
other check still passes and only the comparison with the previous report can catch it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest
from reliability_data import AS_OF_DATE
from reliability_harness import Build, copy_db, dbt_args, query

from course_engagement.contract import EVENTS
from course_engagement.ingest import loader
from course_engagement.orchestration import tasks
from course_engagement.publishing import export, quality
from course_engagement.settings import Settings, SettingsError

MART = "analytics.mart_course_engagement"
HISTORY = "analytics.pipeline_run_history"
RECONCILIATION = "analytics.mart_event_reconciliation"
COUNTED = 11  # event rows counted in the fixture build (mart_event_reconciliation)


@pytest.fixture
def settings(fixture_build: Build, tmp_path: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(copy_db(fixture_build.db, tmp_path / "db")))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    for variable in quality.DEFAULT_MAX_LOSS_SHARES:
        monkeypatch.delenv(variable, raising=False)
    return Settings.from_env()


def publish(settings: Settings, ds: str) -> dict:
    """check_mart_quality >> export_mart_report, as the DAG chains them."""
    tasks.check_mart_quality(settings)
    return tasks.export_mart_report(settings, ds)


def change(settings: Settings, *sqls: str) -> None:
    with duckdb.connect(str(settings.db_path)) as con:
        for sql in sqls:
            con.execute(sql)


def mart_as_of(settings: Settings, ds: str) -> None:
    """The mart as a build for `ds` would date it (the numbers stay the fixture's)."""
    change(settings, f"update {MART} set as_of_date = date '{ds}'")


def history(settings: Settings) -> list[tuple]:
    return query(
        settings.db_path,
        f"select report_date, courses, learners, active_learners from {HISTORY} order by 1",
    )


def build_models(settings: Settings, dbt_worker, run_dir: Path) -> None:
    """The DAG's three layers, models only, as of the fixture's date."""
    result = dbt_worker.run(settings.db_path, *dbt_args("run", run_dir, AS_OF_DATE))
    assert result.success, result.exception


def reports(settings: Settings) -> list[str]:
    """The day reports (the time-series CSVs are written after them, in the same task)."""
    return sorted(path.name for path in settings.reports_dir.glob("course_engagement_*.csv"))


def lose_course(settings: Settings, course_id: int) -> None:
    change(
        settings,
        f"delete from raw.courses where course_id = {course_id}",
        f"delete from {MART} where course_id = {course_id}",
    )


def test_a_published_report_is_recorded_with_its_key_figures(settings: Settings) -> None:
    published = publish(settings, "2026-03-10")

    report = Path(published["path"])
    (row,) = query(
        settings.db_path,
        f"select report_date, courses, learners, active_learners, active_learners_30d, "
        f"total_quizzes_completed, total_videos_completed, counted_events, report_file, "
        f"report_sha256 from {HISTORY}",
    )
    assert row == (
        dt.date(2026, 3, 10),
        4,
        9,  # 4 + 4 + 1 + 0
        8,  # 3 + 4 + 1 + 0
        8,
        3,
        2,
        COUNTED,
        "course_engagement_2026-03-10.csv",
        hashlib.sha256(report.read_bytes()).hexdigest(),
    )


def test_a_mart_that_lost_courses_fails_the_gate_and_no_report_is_written(
    settings: Settings,
) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    mart_as_of(settings, "2026-03-10")
    lose_course(settings, 204)  # 4 -> 3 courses; 204 had no learners, so only courses fall

    with pytest.raises(quality.QualityGateError) as failure:
        publish(settings, "2026-03-10")

    assert failure.value.failures == [
        "courses fell from 4 to 3 (25.00% lost) since the report of 2026-03-09, above "
        "COURSE_ENGAGEMENT_MAX_COURSE_LOSS_SHARE = 10.00%. If the drop is real, rerun this "
        "date with COURSE_ENGAGEMENT_MAX_COURSE_LOSS_SHARE=1"
    ]
    assert reports(settings) == ["course_engagement_2026-03-09.csv"]
    assert history(settings) == [(dt.date(2026, 3, 9), 4, 9, 8)]


def test_a_mart_that_lost_learners_or_activity_fails_naming_each_figure(
    settings: Settings,
) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    mart_as_of(settings, "2026-03-10")
    # what an events file with its header only gives: nobody active any more
    change(settings, f"update {MART} set active_learners = 0, active_learners_30d = 0")
    change(settings, f"update {MART} set learners = 1 where course_id = 202")  # 9 -> 6

    with pytest.raises(quality.QualityGateError) as failure:
        publish(settings, "2026-03-10")

    assert [f.split(" since")[0] for f in failure.value.failures] == [
        "learners (summed over courses) fell from 9 to 6 (33.33% lost)",
        "active learners (summed over courses) fell from 8 to 0 (100.00% lost)",
    ]
    assert reports(settings) == ["course_engagement_2026-03-09.csv"]


def test_a_mart_that_lost_events_fails_on_every_cumulative_total_that_fell(
    settings: Settings,
) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    mart_as_of(settings, "2026-03-10")
    # what a reload that dropped one quiz and one video completion gives: learners, and here
    # active learners, unchanged; only the totals show the loss
    change(
        settings,
        f"update {MART} set total_quizzes_completed = total_quizzes_completed - 1, "
        "total_videos_completed = total_videos_completed - 1 where course_id = 201",
        f"update {RECONCILIATION} set event_rows = event_rows - 2 where reason = 'counted'",
    )

    with pytest.raises(quality.QualityGateError) as failure:
        publish(settings, "2026-03-10")

    assert failure.value.failures == [
        f"{label} fell from {before} to {after} ({share} lost) since the report of 2026-03-09, "
        f"above {variable} = 0.00%. If the drop is real, rerun this date with {variable}=1"
        for label, before, after, share, variable in (
            (
                "total quizzes completed (summed over courses)",
                3,
                2,
                "33.33%",
                quality.MAX_QUIZ_LOSS_ENV,
            ),
            (
                "total videos completed (summed over courses)",
                2,
                1,
                "50.00%",
                quality.MAX_VIDEO_LOSS_ENV,
            ),
            (
                f"counted events ({RECONCILIATION})",
                COUNTED,
                COUNTED - 2,
                "18.18%",
                quality.MAX_COUNTED_EVENT_LOSS_ENV,
            ),
        )
    ]
    assert reports(settings) == ["course_engagement_2026-03-09.csv"]


def test_a_reload_that_dropped_an_appended_day_is_refused_and_if_forced_the_gate_stops_it(
    settings: Settings, fixture_build: Build, dbt_worker, tmp_path: Path
) -> None:
    # the incident: a day appended from outside the data folder, published, then a full reload
    day = tmp_path / "incoming" / "raw_events_2026-03-10.csv"
    day.parent.mkdir()
    day.write_text(f"{EVENTS.header}\n100,1,201,quiz_submit,2026-03-10 08:00:00,s100,quiz:pass\n")
    loader.append([day], settings.db_path)
    build_models(settings, dbt_worker, tmp_path / "dbt1")
    publish(settings, "2026-03-10")  # 4 quizzes (3 + Ada's new one), 12 counted events

    with pytest.raises(loader.LoadError, match=r"raw_events_2026-03-10\.csv \(1 row, sha256"):
        tasks.load_raw(settings)  # what the DAG's load task does
    loader.load(fixture_build.data_dir, settings.db_path, drop_missing_day_files=True)
    build_models(settings, dbt_worker, tmp_path / "dbt2")
    mart_as_of(settings, "2026-03-11")  # the next day's run, on the same events

    with pytest.raises(quality.QualityGateError) as failure:
        publish(settings, "2026-03-11")

    assert [f.split(" since")[0] for f in failure.value.failures] == [
        "total quizzes completed (summed over courses) fell from 4 to 3 (25.00% lost)",
        f"counted events ({RECONCILIATION}) fell from 12 to 11 (8.33% lost)",
    ]
    assert reports(settings) == ["course_engagement_2026-03-10.csv"]


def test_an_old_history_without_counted_events_still_gates_and_is_migrated(
    settings: Settings,
) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    change(settings, f"alter table {HISTORY} drop column counted_events")  # as recorded before
    mart_as_of(settings, "2026-03-10")
    change(settings, f"update {MART} set total_videos_completed = 0")

    with pytest.raises(quality.QualityGateError) as failure:
        publish(settings, "2026-03-10")
    assert [f.split(" (")[0] for f in failure.value.failures] == ["total videos completed"]

    mart_as_of(settings, "2026-03-09")
    change(settings, f"update {MART} set total_videos_completed = 1 where course_id = 201")
    publish(settings, "2026-03-09")  # the rerun records it with the column added back
    assert query(settings.db_path, f"select report_date, counted_events from {HISTORY}") == [
        (dt.date(2026, 3, 9), COUNTED)
    ]


def test_an_empty_mart_fails_the_gate_and_no_report_is_written(settings: Settings) -> None:
    change(settings, "delete from raw.courses", f"delete from {MART}")  # a header-only catalogue

    with pytest.raises(quality.QualityGateError) as failure:
        publish(settings, "2026-03-10")

    assert failure.value.failures == ["mart has at least one row: 1 offending row(s)"]
    assert not settings.reports_dir.exists() or reports(settings) == []
    with pytest.raises(export.ExportError, match="is empty"):  # and the export refuses alone
        export.export_report(settings.db_path, settings.reports_dir, "2026-03-10")


def test_a_rerun_compares_with_the_previous_date_never_with_itself(settings: Settings) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    # an earlier run of 03-10 published far more; a rerun of 03-10 must not compare with it
    change(
        settings,
        f"insert into {HISTORY} values (date '2026-03-10', 100, 900, 800, 800, 0, 0, "
        "'course_engagement_2026-03-10.csv', 'x', now()::timestamp, 8000)",
    )
    mart_as_of(settings, "2026-03-10")

    publish(settings, "2026-03-10")

    assert history(settings) == [(dt.date(2026, 3, 9), 4, 9, 8), (dt.date(2026, 3, 10), 4, 9, 8)]


def test_a_backfilled_date_compares_with_the_date_before_it(settings: Settings) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    change(settings, f"update {HISTORY} set report_date = date '2026-03-12'")  # a later report
    mart_as_of(settings, "2026-03-05")
    lose_course(settings, 204)

    publish(settings, "2026-03-05")  # nothing before 03-05 to compare with

    assert [row[0] for row in history(settings)] == [dt.date(2026, 3, 5), dt.date(2026, 3, 12)]


def test_the_loss_thresholds_come_from_the_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    mart_as_of(settings, "2026-03-09")
    publish(settings, "2026-03-09")
    mart_as_of(settings, "2026-03-10")
    lose_course(settings, 204)

    monkeypatch.setenv(quality.MAX_COURSE_LOSS_ENV, "0.3")
    publish(settings, "2026-03-10")  # 25% lost, 30% allowed

    monkeypatch.setenv(quality.MAX_COURSE_LOSS_ENV, "lots")
    with pytest.raises(SettingsError, match="MAX_COURSE_LOSS_SHARE='lots' is not a share"):
        publish(settings, "2026-03-10")  # a permanent failure in the DAG (a ValueError)


def test_the_export_refuses_a_mart_built_for_another_date(settings: Settings) -> None:
    with pytest.raises(export.ExportError, match="built as of 2026-03-10, not as of 2026-03-11"):
        export.export_report(settings.db_path, settings.reports_dir, "2026-03-11")
    assert reports(settings) == []
    assert tasks.PERMANENT_FAILURES.count(export.ExportError) == 1  # no retry
