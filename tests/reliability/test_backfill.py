"""A backfill of seven consecutive dates, 2026-03-04 to 2026-03-10 (case 14).

Seven DAG runs through Airflow would cost 5-7 minutes here, so the DAG's task bodies
(orchestration.tasks) run in the DAG's order, one date after the other, exactly as a
backfill with max_active_runs=1 and the one-slot pool runs them: load_raw, run_base,
run_intermediate, run_marts, check_mart_quality (with its comparison to the previous date's
report), export_mart_report. Each dbt layer runs the command dbt_runner builds, in the dbt
worker, with its data and unit tests excluded: they are what makes a full build cost ~10 s per
date here, and they are proven on the same data by the fixture build (as of 2026-03-10). The
DAG's own serialisation (max_active_runs=1, every DuckDB task in the one-slot pool) is checked
by tests/dags/test_dag_integrity.py.

Per date, by hand (reliability_data.py), counted events up to the end of the day:
  03-04: events 1, 18           active 2  quizzes 0  videos 1
  03-05: + 2                    active 2  quizzes 1  videos 1   (4: Dan enrols on 03-06)
  03-06: + 3, 4                 active 4  quizzes 2  videos 1
  03-07: + 5 (Eve again)        active 4  quizzes 2  videos 2
  03-08: + 6, 19                active 5  quizzes 2  videos 2
  03-09: + 7                    active 6  quizzes 2  videos 2
  03-10: + 8, 10                active 8  quizzes 3  videos 2
Learners: 8 on 03-04 and 03-05, 9 from 03-06 (Dan's enrolment, 03-06 12:00, counts from
its date; Eve's enrolment without a time counts on every date).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
import reliability_data as data
from dbt_harness import write_raw_csvs
from reliability_harness import DB_NAME, query

from course_engagement.orchestration import dbt_runner, tasks
from course_engagement.orchestration.dbt_runner import LAYERS
from course_engagement.publishing import export
from course_engagement.settings import Settings

ACTIVE = [2, 2, 4, 4, 5, 6, 8]
LEARNERS = [8, 8, 9, 9, 9, 9, 9]
QUIZZES = [0, 1, 2, 2, 2, 2, 3]
VIDEOS = [1, 1, 1, 2, 2, 2, 2]
MODELS_ONLY = ("--exclude", "resource_type:test", "resource_type:unit_test")
CUMULATIVE = ("learners", "active_learners", "total_quizzes_completed", "total_videos_completed")


@pytest.fixture(scope="module")
def backfill(tmp_path_factory, dbt_worker) -> tuple[Settings, dict[str, list[dict]]]:
    root = tmp_path_factory.mktemp("backfill")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_ENGAGEMENT_DB", str(root / DB_NAME))
        patch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(write_raw_csvs(root / "data", data.ROWS)))
        patch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(root / "output"))

        def run_in_worker(command: list[str], *, env: dict, **_) -> tuple[int, str]:
            db = Path(env["COURSE_ENGAGEMENT_DB"])
            result = dbt_worker.run(db, *command[1:], *MODELS_ONLY)
            return (0 if result.success else 1), result.output

        patch.setattr(dbt_runner, "run_in_process_group", run_in_worker)
        settings = Settings.from_env()
        for ds in data.BACKFILL_DATES:
            run_id = f"backfill__{ds}T00:00:00+00:00"
            tasks.load_raw(settings)
            for layer in LAYERS:
                tasks.run_layer(settings, layer, ds, run_id)
            tasks.check_mart_quality(settings)
            tasks.export_mart_report(settings, ds)
    reports = {}
    for ds in data.BACKFILL_DATES:
        with (settings.reports_dir / f"course_engagement_{ds}.csv").open(newline="") as handle:
            reports[ds] = list(csv.DictReader(handle))
    return settings, reports


def _total(rows: list[dict], column: str) -> int:
    return sum(int(row[column]) for row in rows)


def test_seven_dates_give_seven_reports_each_as_of_its_own_date(backfill) -> None:
    settings, reports = backfill
    names = ["course_engagement", *(m.removeprefix("mart_") for m in export.TIME_SERIES_MARTS)]
    assert sorted(p.name for p in settings.reports_dir.iterdir()) == sorted(
        [f"{name}_{ds}.csv" for name in names for ds in data.BACKFILL_DATES]
        + [f"course_engagement_{ds}.html" for ds in data.BACKFILL_DATES]
    )
    for ds, rows in reports.items():
        assert {row["as_of_date"] for row in rows} == {ds}
        assert len(rows) == 4


def test_each_page_compares_with_the_report_of_the_date_before(backfill) -> None:
    settings, _ = backfill
    pages = [
        (settings.reports_dir / f"course_engagement_{ds}.html").read_text()
        for ds in data.BACKFILL_DATES
    ]
    assert "no earlier report to compare with" in pages[0]
    # learners 8 -> 9 on 6 March, compared with the report of 5 March
    assert '<p class="value">9</p><p class="change">+1 (+12.5%) since 5 Mar 2026</p>' in pages[2]
    assert '<p class="change">no change since 4 Mar 2026</p>' in pages[1]


def test_a_report_never_counts_an_event_after_its_date(backfill) -> None:
    _, reports = backfill
    for ds, rows in reports.items():
        end_of_day = f"{ds} 23:59:59"
        assert all(row["last_activity"] <= end_of_day for row in rows if row["last_activity"])
    assert [_total(rows, "learners") for rows in reports.values()] == LEARNERS
    assert [_total(rows, "active_learners") for rows in reports.values()] == ACTIVE
    assert [_total(rows, "total_quizzes_completed") for rows in reports.values()] == QUIZZES
    assert [_total(rows, "total_videos_completed") for rows in reports.values()] == VIDEOS
    last_201 = [next(r for r in rows if r["course_id"] == "201") for rows in reports.values()]
    assert [row["last_activity"] for row in last_201] == [
        "2026-03-04 09:00:00",
        "2026-03-05 10:00:00",
        "2026-03-06 11:00:00",
        "2026-03-06 11:00:00",
        "2026-03-08 09:00:00",
        "2026-03-08 09:00:00",
        "2026-03-08 09:00:00",
    ]


def test_cumulative_totals_never_fall_from_one_date_to_the_next(backfill) -> None:
    _, reports = backfill
    days = list(reports.values())
    for earlier, later in itertools.pairwise(days):
        for before, after in zip(earlier, later, strict=True):
            assert before["course_id"] == after["course_id"]
            for column in CUMULATIVE:
                assert int(after[column]) >= int(before[column]), (after["as_of_date"], column)


def test_the_runs_were_serialised_and_each_is_in_the_history(backfill) -> None:
    settings, _ = backfill
    history = query(
        settings.db_path,
        "select report_date, active_learners, recorded_at from analytics.pipeline_run_history "
        "order by report_date",
    )
    assert [(row[0], row[1]) for row in history] == [
        (dt.date.fromisoformat(ds), active)
        for ds, active in zip(data.BACKFILL_DATES, ACTIVE, strict=True)
    ]
    recorded = [row[2] for row in history]
    assert recorded == sorted(recorded)
    # every dbt layer of a date finished before the next date's first layer started
    spans = []
    for ds in data.BACKFILL_DATES:
        folder = next((settings.output_dir / "dbt_runs").glob(f"{ds}_backfill__*"))
        for layer in LAYERS:
            results = json.loads((folder / layer / "target" / "run_results.json").read_text())
            timings = [
                t for node in results["results"] for t in node["timing"] if t["name"] == "execute"
            ]
            started = min(t["started_at"] for t in timings)
            spans.append((started, max(t["completed_at"] for t in timings)))
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))
