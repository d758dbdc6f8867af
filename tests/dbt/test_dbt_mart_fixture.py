"""The mart's numbers on a small hand-written fixture, against values worked out by hand.

The fixture is built the way the DAG builds it - one `dbt build` per layer (base, intermediate,
marts) - so the per-layer selection is tested too. as_of_date is 2026-01-31, so "counted"
means timestamped before 2026-02-01 00:00:00 and the 30-day window starts 2026-01-02 00:00:00.

Who is a learner (L) of which course, and why:
  user 1  Ada    one version, active                        L of 101 (enrolments 1, 2) and 102 (8)
  user 2  Ben    latest version deleted (flag)              not a learner (enrolment 3)
  user 3  Chloe  live -> deleted -> live again (restored)   L of 101 (4); 102 only cancelled (9, 10)
  user 4  Dev    latest state 'deleted', flag not set       not a learner (5)
  user 5  Elena  only a cancelled enrolment in 101          not a learner (6)
  user 6  Farah  blank state; enrolment 7 has a blank status (not cancelled)
                 -> L of 101; enrolment 11 is in course 999, not in the catalogue
  user 7  Grace  L of 102 (12), no events
  user 8  Hugo   state 'SUSPENDED' (variant); L of 101 (13), only a future event

Events (id: who, course, type, when -> fate):
  1  user 1, 101, video_complete, 01-10 09:00:00 -> counted (delivered twice, identical)
  2  user 1, 101, quiz_submit,    01-31 23:59:59 -> counted, last instant of the window
  3  user 1, 101, quiz_submit,    02-01 00:00:00 -> future
  4  user 3, 101, ' Quiz_Submit ', 01-01 23:59:59 -> counted, one second before the window
  5  user 3, 101, page_view,      2025-11-15 10:00 -> counted, before enrolment (flagged)
  6  user 6, 101, video_complete, 01-02 00:00:00 -> counted, first instant of the window,
                                                    before enrolment; id re-used (session s7)
  7  user 2, 101 -> deleted_user        8  user 5, 101 -> on_cancelled_enrolment
  9  user 1, 103 -> without_enrolment  10  user 99, 101 -> unknown_user
  11 user 1, 999 -> unknown_course     12  user 1, 102, no timestamp -> empty_timestamp
  13 user 1, 102, forum_post, 01-20 12:00:00 -> counted (unknown type still counts)
  14 user 4, 101 -> deleted_user       15  user 8, 101, 02-03 -> future
"""

from __future__ import annotations

import datetime as dt

import pytest
from dbt_harness import LAYERS, DbtRun, load_into_new_db, write_raw_csvs

AS_OF_DATE = "2026-01-31"

USERS = [
    "1,Ada Okafor,ada@example.org,2025-01-01,active,false,2025-01-01 00:00:00,",
    "2,Ben Smith,ben@example.org,2025-01-01,active,false,2025-01-01 00:00:00,",
    "2,Ben Smith,ben@example.org,2025-01-01,deleted,false,2025-06-01 00:00:00,TRUE",
    "3,Chloe Nguyen,chloe@example.org,2025-01-01,active,true,2025-01-01 00:00:00,",
    "3,Chloe Nguyen,chloe@example.org,2025-01-01,deleted,true,2025-03-01 00:00:00,TRUE",
    "3,Chloe Nguyen,chloe@example.org,2025-01-01, Active,true,2025-09-01 00:00:00,",
    "4,Dev Garcia,dev@example.org,2025-01-01,deleted,false,2025-01-01 00:00:00,",
    "5,Elena Khan,elena@example.org,2025-01-01,active,false,2025-01-01 00:00:00,",
    "6,Farah Muller,farah@example.org,2025-01-01,,false,2025-01-01 00:00:00,",
    "7,Grace Rossi,grace@example.org,2025-01-01,pending,false,2025-01-01 00:00:00,",
    "8,Hugo Silva,hugo@example.org,2025-01-01,SUSPENDED,false,2025-01-01 00:00:00,",
]
COURSES = [
    "101,Intro to SQL, data science,Beginner,Academy North,2024-01-01",
    "102,Python Basics,Design, ADVANCED ,TechSkills,2024-02-01",
    "103,Empty Course,,,GovDigital,2024-03-01",
]
ENROLMENTS = [
    "1,1,101,2026-01-01 10:00:00,active",
    "2,1,101,2026-01-05 10:00:00,active",
    "3,2,101,2025-02-01 10:00:00,active",
    "4,3,101,2025-12-01 10:00:00,completed",
    "5,4,101,2025-02-01 10:00:00,active",
    "6,5,101,2025-02-01 10:00:00,cancelled",
    "7,6,101,2026-01-10 10:00:00,",
    "8,1,102,2026-01-02 10:00:00, Active",
    "9,3,102,2025-12-01 10:00:00,cancelled",
    "10,3,102,2025-12-02 10:00:00, CANCELLED",
    "11,6,999,2026-01-10 10:00:00,active",
    "12,7,102,2026-01-15 10:00:00,active",
    "13,8,101,2026-01-03 10:00:00,active",
]
EVENTS = [
    "1,1,101,video_complete,2026-01-10 09:00:00,s1,video:1",
    "1,1,101,video_complete,2026-01-10 09:00:00,s1,video:1",
    "2,1,101,quiz_submit,2026-01-31 23:59:59,s2,quiz:pass",
    "3,1,101,quiz_submit,2026-02-01 00:00:00,s3,quiz:pass",
    "4,3,101, Quiz_Submit ,2026-01-01 23:59:59,s4,quiz:fail",
    "5,3,101,page_view,2025-11-15 10:00:00,s5,page:1",
    "6,6,101,video_complete,2026-01-02 00:00:00,s6,video:2",
    "6,6,101,video_complete,2026-01-02 00:00:00,s7,video:2",
    "7,2,101,quiz_submit,2026-01-20 10:00:00,s8,quiz:pass",
    "8,5,101,page_view,2026-01-20 10:00:00,s9,page:2",
    "9,1,103,page_view,2026-01-20 10:00:00,s10,page:3",
    "10,99,101,page_view,2026-01-20 10:00:00,s11,page:4",
    "11,1,999,page_view,2026-01-20 10:00:00,s12,page:5",
    "12,1,102,video_start,,s13,video:3",
    "13,1,102,forum_post,2026-01-20 12:00:00,s14,none",
    "14,4,101,page_view,2026-01-20 10:00:00,s15,page:6",
    "15,8,101,page_view,2026-02-03 10:00:00,s16,page:7",
]


@pytest.fixture(scope="module")
def fixture_session(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, list]:
    root = tmp_path_factory.mktemp("mart_fixture")
    data_dir = write_raw_csvs(
        root / "data",
        {"users": USERS, "courses": COURSES, "enrolments": ENROLMENTS, "events": EVENTS},
    )
    run = load_into_new_db(data_dir, root / "run")
    layer_builds = [
        ["build", "--select", f"path:models/{layer}", "--indirect-selection", "buildable"]
        for layer in LAYERS
    ]
    return run, run.dbt(*layer_builds, as_of_date=AS_OF_DATE)


@pytest.fixture(scope="module")
def fixture_build(fixture_session: tuple[DbtRun, list]) -> DbtRun:
    return fixture_session[0]


def _mart(run: DbtRun) -> dict[int, dict]:
    rows = run.query_dicts("select * from analytics.mart_course_engagement")
    return {row["course_id"]: row for row in rows}


def _assert_columns(row: dict, expected: dict) -> None:
    """The row's values of the columns `expected` names (a column added later to the mart has
    its own unit test, and needs no edit here)."""
    assert {column: row[column] for column in expected} == expected


def test_mart_has_one_row_per_catalogue_course(fixture_build: DbtRun) -> None:
    assert sorted(_mart(fixture_build)) == [101, 102, 103]


def test_course_with_learners_deleted_users_and_window_edges(fixture_build: DbtRun) -> None:
    # learners: users 1, 3, 6, 8 (2 and 4 deleted, 5 cancelled only)
    # active: 1 (events 1, 2), 3 (4, 5), 6 (6); user 8's only event is in the future
    # 30d: user 1 (01-31 23:59:59) and user 6 (01-02 00:00:00); user 3 last 01-01 23:59:59
    # quizzes: events 2 and 4; videos: events 1 and 6 (event 1 delivered twice counts once)
    _assert_columns(
        _mart(fixture_build)[101],
        {
            "course_id": 101,
            "course_title": "Intro to SQL",
            "category": "Data Science",
            "level": "beginner",
            "publisher": "Academy North",
            "learners": 4,
            "active_learners": 3,
            "active_learners_30d": 2,
            "total_quizzes_completed": 2,
            "total_videos_completed": 2,
            "first_activity": dt.datetime(2025, 11, 15, 10, 0, 0),
            "last_activity": dt.datetime(2026, 1, 31, 23, 59, 59),
            "engagement_rate": 0.75,
            "as_of_date": dt.date(2026, 1, 31),
        },
    )


def test_course_with_an_unknown_type_event_and_a_silent_learner(fixture_build: DbtRun) -> None:
    # learners: users 1 and 7 (user 3 only cancelled, one of them ' CANCELLED')
    # active: user 1, by event 13 (forum_post: unknown type, still counted); event 12 has no
    # timestamp and does not count
    _assert_columns(
        _mart(fixture_build)[102],
        {
            "course_id": 102,
            "course_title": "Python Basics",
            "category": "Design",
            "level": "advanced",
            "publisher": "TechSkills",
            "learners": 2,
            "active_learners": 1,
            "active_learners_30d": 1,
            "total_quizzes_completed": 0,
            "total_videos_completed": 0,
            "first_activity": dt.datetime(2026, 1, 20, 12, 0, 0),
            "last_activity": dt.datetime(2026, 1, 20, 12, 0, 0),
            "engagement_rate": 0.5,
            "as_of_date": dt.date(2026, 1, 31),
        },
    )


def test_course_without_learners_has_zeros_and_nulls(fixture_build: DbtRun) -> None:
    # event 9 (user 1 in 103) has no enrolment behind it: 103 has no learner at all
    _assert_columns(
        _mart(fixture_build)[103],
        {
            "course_id": 103,
            "course_title": "Empty Course",
            "category": None,
            "level": None,
            "publisher": "GovDigital",
            "learners": 0,
            "active_learners": 0,
            "active_learners_30d": 0,
            "total_quizzes_completed": 0,
            "total_videos_completed": 0,
            "first_activity": None,
            "last_activity": None,
            "engagement_rate": None,
            "as_of_date": dt.date(2026, 1, 31),
        },
    )


def test_every_raw_event_row_has_exactly_one_reason(fixture_build: DbtRun) -> None:
    rows = dict(
        fixture_build.query("select reason, event_rows from analytics.mart_event_reconciliation")
    )
    assert rows == {
        "counted": 6,  # events 1, 2, 4, 5, 6, 13
        "exact_duplicate": 1,  # the second delivery of event 1
        "id_conflict": 1,  # event 6 with session s7
        "empty_timestamp": 1,  # 12
        "future": 2,  # 3, 15
        "missing_user_or_course": 0,
        "unknown_user": 1,  # 10
        "unknown_course": 1,  # 11
        "without_enrolment": 1,  # 9
        "deleted_user": 2,  # 7 (flag), 14 (state)
        "on_cancelled_enrolment": 1,  # 8
        "enrolled_after_as_of_date": 0,  # every enrolment is before 2026-02-01
    }
    assert sum(rows.values()) == len(EVENTS) == 17


def test_quality_model_counts_every_defect_class_by_its_definition(
    fixture_build: DbtRun,
) -> None:
    counts = dict(
        fixture_build.query("select defect, defect_count from analytics.mart_data_quality")
    )
    assert counts == {
        "user_older_versions": 3,  # 11 rows, 8 ids
        "users_deleted_latest_with_live_older": 1,  # user 2 (user 4 has no deleted flag)
        "users_restored": 1,  # user 3
        "users_state_empty": 1,  # user 6
        "users_state_variant": 2,  # ' Active', 'SUSPENDED'
        "courses_category_empty": 1,  # 103
        "courses_category_variant": 1,  # ' data science'
        "courses_level_empty": 1,  # 103
        "courses_level_variant": 1,  # ' ADVANCED '
        "enrolments_status_empty": 1,  # 7
        "enrolments_status_variant": 2,  # 8 ' Active', 10 ' CANCELLED'
        "enrolments_status_unknown": 0,
        "enrolments_enrolled_at_empty": 0,
        "enrolments_cancelled": 3,  # 6, 9, 10
        "enrolments_duplicate_user_course": 2,  # (1, 101) and (3, 102) twice each
        "enrolments_of_deleted_users": 1,  # 3 (user 2)
        "events_type_variant": 1,  # ' Quiz_Submit '
        "events_exact_duplicates": 1,
        "events_id_conflicts": 1,
        "events_empty_timestamp": 1,
        "events_future": 2,
        "events_unknown_type": 1,  # forum_post
        "events_unknown_user": 1,
        "events_unknown_course": 1,
        "events_without_enrolment": 1,
        "events_on_cancelled_enrolment": 1,
        "events_before_enrolment": 2,  # 5 (user 3) and 6 (user 6)
    }


def test_restored_user_is_a_learner_and_deleted_ones_are_not(fixture_build: DbtRun) -> None:
    learners = fixture_build.query(
        "select user_id, course_id from analytics.int_user_course__activity "
        "where is_learner order by all"
    )
    assert learners == [(1, 101), (1, 102), (3, 101), (6, 101), (7, 102), (8, 101)]


def test_each_layer_builds_on_its_own_without_warnings(fixture_session: tuple) -> None:
    _, commands = fixture_session
    builds = [c for c in commands if c.args[0] == "build"]
    assert [c.args[2] for c in builds] == [f"path:models/{layer}" for layer in LAYERS]
    for build in builds:
        assert build.success
        assert build.results, f"{build.args} selected nothing"
        # the exposure is a no-op node; everything else must pass without a warning
        statuses = {
            node: status for node, status in build.statuses.items() if "exposure" not in node
        }
        assert set(statuses.values()) <= {"success", "pass"}, statuses


def _health(run: DbtRun, course_id: int) -> list[tuple]:
    return run.query(
        "select week_start, learners, active_learners, active_learners_previous_week, "
        "active_learners_30d, quizzes_completed, videos_completed, health_status "
        f"from analytics.mart_course_health_weekly where course_id = {course_id} "
        "order by week_start"
    )


def _week(month: int, day: int) -> dt.date:
    return dt.date(2025 if month > 1 else 2026, month, day)


def test_course_health_weekly_has_every_course_in_every_week_to_as_of_date(
    fixture_build: DbtRun,
) -> None:
    # the first counted event (5, 2025-11-15, a Saturday) opens the week of 2025-11-10; the
    # last week is the one holding as_of_date 2026-01-31 (a Saturday), cut at it
    ((weeks, first, last, last_end, rows),) = fixture_build.query(
        "select count(distinct week_start), min(week_start), max(week_start), "
        "max(week_end_date), count(*) from analytics.mart_course_health_weekly"
    )
    assert (weeks, first, last, last_end, rows) == (
        12,
        _week(11, 10),
        _week(1, 26),
        dt.date(2026, 1, 31),
        3 * 12,
    )


def test_course_health_weekly_counts_each_week_of_a_course(fixture_build: DbtRun) -> None:
    # learners: user 3 from the week of event 5 (before their enrolment), users 1, 6, 8 from
    # the week of 12-29 (enrolments 01-01, 01-03, first event 01-02). Active: user 3 on 11-15
    # and 01-01, user 6 on 01-02, user 1 on 01-10 and 01-31 (event 3 is future). The 30-day
    # count merges each learner's days: user 3 covers the weeks ending 11-16 to 12-14, then
    # 01-04 to 01-25; user 6 01-04 to as_of_date; user 1 01-11 to as_of_date.
    # Status (baseline: mean active of the 4 weeks before; new: 4 weeks from 11-10).
    assert _health(fixture_build, 101) == [
        (_week(11, 10), 1, 1, 0, 1, 0, 0, "new"),
        (_week(11, 17), 1, 0, 1, 1, 0, 0, "new"),
        (_week(11, 24), 1, 0, 0, 1, 0, 0, "new"),
        (_week(12, 1), 1, 0, 0, 1, 0, 0, "new"),
        (_week(12, 8), 1, 0, 0, 1, 0, 0, "declining"),  # 0 against 0.25
        (_week(12, 15), 1, 0, 0, 0, 0, 0, "dormant"),
        (_week(12, 22), 1, 0, 0, 0, 0, 0, "dormant"),
        (_week(12, 29), 4, 2, 0, 2, 1, 1, "growing"),  # back from a baseline of 0
        (_week(1, 5), 4, 1, 2, 3, 0, 1, "growing"),  # 1 against 0.5
        (_week(1, 12), 4, 0, 1, 3, 0, 0, "declining"),
        (_week(1, 19), 4, 0, 0, 3, 0, 0, "declining"),
        (_week(1, 26), 4, 1, 0, 2, 1, 0, "growing"),  # 1 against 0.75
    ]


def test_course_health_weekly_keeps_quiet_weeks_and_courses_without_learners(
    fixture_build: DbtRun,
) -> None:
    # 102: user 1 enrolled 01-02, user 7 01-15; user 1's only counted event is on 01-20
    health_102 = _health(fixture_build, 102)
    assert [row[:2] for row in health_102[6:]] == [
        (_week(12, 22), 0),
        (_week(12, 29), 1),
        (_week(1, 5), 1),
        (_week(1, 12), 2),
        (_week(1, 19), 2),
        (_week(1, 26), 2),
    ]
    assert health_102[-2:] == [
        (_week(1, 19), 2, 1, 0, 1, 0, 0, "new"),
        (_week(1, 26), 2, 0, 1, 1, 0, 0, "new"),
    ]
    assert {row[-1] for row in health_102[:-2]} == {"dormant"}
    # 103 has no learner (event 9 has no enrolment behind it): zeros, dormant, every week
    assert _health(fixture_build, 103) == [
        (week, 0, 0, 0, 0, 0, 0, "dormant") for week, *_ in health_102
    ]
