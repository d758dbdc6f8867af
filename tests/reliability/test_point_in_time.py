"""A report as of a past date equals the report built from the data as it stood that day (case 43).

The fixture of reliability_data.py, plus Fay's enrolment in 203 at the last instant of 03-08
(enrolment 13) and her page view there on 03-05 (event 20). For each date D below, two
databases, each loaded by the real loader and built by the real dbt:

- full: every row, built as of D (the same database for every date, as a backfill builds it);
- cut:  the same users and courses files, the enrolments made before the end of D (or without
        a time) and the events timestamped before the end of D (or without a timestamp).

The course engagement mart must be identical. The event reconciliation must be identical on
counted and on every reason that reads neither enrolments nor time; the full data alone knows
that an event of D is of a user who enrolled later (enrolled_after_as_of_date: in the cut data
that user has no enrolment, so without_enrolment - in general a pair whose only enrolments are
later shows as without_enrolment in the cut, whatever its reason in the full data), and which
rows came after D (future, and the duplicates among them).

By hand, enrolled_after_as_of_date in the full data:
  03-05: event 4 (Dan enrols 03-06 12:00) and event 20 (Fay enrols 03-08 23:59:59)   2
  03-06: event 20 (Dan is a learner from 03-06: his event 4 counts, before enrolment)  1
  03-08: none (Fay's enrolment at the last instant of the day makes her a learner)     0
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest
import reliability_data as data
from reliability_harness import dbt_args, load_new_db, query

DATES = ("2026-03-05", "2026-03-06", "2026-03-08")
ENROLLED_AFTER = {"2026-03-05": 2, "2026-03-06": 1, "2026-03-08": 0}
ROWS = {
    **data.ROWS,
    "enrolments": [*data.ENROLMENTS, "13,6,203,2026-03-08 23:59:59,active"],
    "events": [*data.EVENTS, "20,6,203,page_view,2026-03-05 10:00:00,s20,page:10"],
}
TIME_COLUMN = {"enrolments": 3, "events": 4}  # enrolled_at, event_timestamp
REPORTS = ("mart_course_engagement", "mart_event_reconciliation")
MODELS_ONLY = ("--exclude", "resource_type:test", "resource_type:unit_test")


def _end_of(ds: str) -> str:
    return f"{dt.date.fromisoformat(ds) + dt.timedelta(days=1)} 00:00:00"


def cut_at(ds: str) -> dict[str, list[str]]:
    """The export as it stood at the end of ds: later enrolments and events are not there."""

    def known_by_then(table: str, line: str) -> bool:
        time = next(csv.reader([line]))[TIME_COLUMN[table]]
        return time == "" or time < _end_of(ds)  # 'YYYY-MM-DD HH:MM:SS' sorts as it reads

    return {
        table: [line for line in lines if table not in TIME_COLUMN or known_by_then(table, line)]
        for table, lines in ROWS.items()
    }


def _reports(db) -> dict[str, list[tuple]]:
    return {
        "mart_course_engagement": query(
            db, "select * from analytics.mart_course_engagement order by course_id"
        ),
        "mart_event_reconciliation": dict(
            query(db, "select reason, event_rows from analytics.mart_event_reconciliation")
        ),
    }


def _build(dbt_worker, db, run_dir, ds: str, *extra: str) -> None:
    # the reports and their parents; cautious: no test of a model left unbuilt
    select = ("--select", *(f"+{report}" for report in REPORTS), "--indirect-selection", "cautious")
    result = dbt_worker.run(db, *dbt_args("build", run_dir, ds, *select, *extra))
    failed = {node: s for node, s in result.not_passing().items() if s != "warn"}
    assert result.success, result.exception or failed


@pytest.fixture(scope="module")
def reports(tmp_path_factory, dbt_worker) -> dict[str, dict[str, dict]]:
    """{date: {"full": reports, "cut": reports}}."""
    root = tmp_path_factory.mktemp("point_in_time")
    full_db = load_new_db(ROWS, root / "full")
    built: dict[str, dict[str, dict]] = {}
    for ds in DATES:
        # the full data as of a past date, with its data tests: the rules hold at any date
        _build(dbt_worker, full_db, root / "full" / ds, ds, "--exclude", "resource_type:unit_test")
        cut_db = load_new_db(cut_at(ds), root / f"cut_{ds}")
        _build(dbt_worker, cut_db, root / f"cut_{ds}", ds, *MODELS_ONLY)
        built[ds] = {"full": _reports(full_db), "cut": _reports(cut_db)}
    return built


def test_the_cut_keeps_what_was_known_at_the_end_of_the_day() -> None:
    cut = cut_at("2026-03-05")
    assert len(cut["users"]) == len(ROWS["users"]) and len(cut["courses"]) == len(ROWS["courses"])
    # Dan (03-06 12:00) and Fay (03-08 23:59:59) enrol later; Eve's enrolment 12 has no time
    assert len(cut["enrolments"]) == len(ROWS["enrolments"]) - 2
    assert "12,5,201,,active" in cut["enrolments"]
    # events 3 (twice), 5, 6, 7, 8, 9, 10, 19 come later; 16 has no timestamp and stays
    assert len(cut["events"]) == len(ROWS["events"]) - 9
    assert "16,1,201,page_view,,s16,page:8" in cut["events"]


@pytest.mark.parametrize("ds", DATES)
def test_the_course_report_of_a_past_date_equals_the_one_built_on_the_data_of_that_date(
    reports, ds: str
) -> None:
    full, cut = reports[ds]["full"], reports[ds]["cut"]
    assert full["mart_course_engagement"] == cut["mart_course_engagement"]


@pytest.mark.parametrize("ds", DATES)
def test_the_event_reconciliation_of_a_past_date_equals_the_one_built_on_the_data_of_that_date(
    reports, ds: str
) -> None:
    full, cut = (
        reports[ds]["full"]["mart_event_reconciliation"],
        reports[ds]["cut"]["mart_event_reconciliation"],
    )
    assert full["enrolled_after_as_of_date"] == ENROLLED_AFTER[ds]
    assert cut["enrolled_after_as_of_date"] == 0 and cut["future"] == 0
    # what the cut data cannot know: the later enrolments, and the rows after the date
    later_rows = len(ROWS["events"]) - len(cut_at(ds)["events"])
    assert full["without_enrolment"] + full["enrolled_after_as_of_date"] == cut["without_enrolment"]
    assert (
        full["future"] + full["exact_duplicate"] + full["id_conflict"]
        == later_rows + cut["exact_duplicate"] + cut["id_conflict"]
    )
    unknowable = {"without_enrolment", "enrolled_after_as_of_date", "future"}
    unknowable |= {"exact_duplicate", "id_conflict"}
    assert {r: n for r, n in full.items() if r not in unknowable} == {
        r: n for r, n in cut.items() if r not in unknowable
    }


def test_a_learner_counts_from_the_day_of_the_enrolment(reports) -> None:
    # Dan (201) from 03-06, Fay (203) from 03-08; Eve's enrolment without a time on every date
    learners = {
        ds: {row[0]: row[5] for row in reports[ds]["full"]["mart_course_engagement"]}
        for ds in DATES
    }
    assert learners == {
        "2026-03-05": {201: 3, 202: 4, 203: 1, 204: 0},
        "2026-03-06": {201: 4, 202: 4, 203: 1, 204: 0},
        "2026-03-08": {201: 4, 202: 4, 203: 2, 204: 0},
    }
