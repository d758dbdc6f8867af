"""Bad inputs that load, on the hand-written fixture built by real dbt (cases 1-4, 8, 9).

Every expected number is worked out in reliability_data.py. The fixture build is shared
(reliability_harness.py); tests that need another database load their own files and build
them in the dbt worker.
"""

from __future__ import annotations

import datetime as dt

import pytest
import reliability_data as data
from dbt_harness import write_raw_csvs
from reliability_harness import Build, copy_db, dbt_args, load_new_db, query, snapshot

from course_engagement.ingest.loader import load
from course_engagement.orchestration import dbt_runner
from course_engagement.settings import Settings

SHARE_TEST = "test.course_engagement.assert_unknown_code_shares_within_limits"

# the incremental marts' bookkeeping: when each run read the learner-day fact and what it wrote
WATERMARKS = "analytics.incremental_watermarks"


def _quality(db) -> dict[str, int]:
    return dict(query(db, "select defect, defect_count from analytics.mart_data_quality"))


# Case 1 ------------------------------------------------------------------------------------


def test_tied_user_versions_have_a_deterministic_winner_and_warn(fixture_build: Build) -> None:
    current = query(
        fixture_build.db,
        "select user_id, user_state, is_deleted, version_count from analytics.dim_users "
        "where is_current and user_id in (2, 3, 4) order by user_id",
    )
    assert current == [
        (2, "deleted", True, 3),  # live vs deleted tie: deleted wins
        (3, "active", False, 2),  # 'active' < 'suspended'
        (4, "active", False, 2),  # identical rows: either is the same
    ]
    tie_test = next(
        node
        for node in fixture_build.result.results
        if node["unique_id"].startswith(
            "test.course_engagement.unique_combination_of_columns_base_raw__users_user_id"
        )
    )
    assert (tie_test["status"], tie_test["failures"]) == ("warn", 3)  # users 2, 3 and 4


def test_the_winner_does_not_depend_on_row_order_and_a_rerun_is_identical(
    fixture_build: Build, dbt_worker, tmp_path
) -> None:
    reversed_rows = {table: rows[::-1] for table, rows in data.ROWS.items()}
    db = load_new_db(reversed_rows, tmp_path)
    runs = []
    # the seeds (exclusion reasons, defect classes) first: `dbt run` builds models only
    seeded = dbt_worker.run(db, *dbt_args("seed", tmp_path / "dbt", data.AS_OF_DATE))
    assert seeded.success, seeded.exception
    for _ in range(2):  # built twice: the rerun must change nothing
        result = dbt_worker.run(db, *dbt_args("run", tmp_path / "dbt", data.AS_OF_DATE))
        assert result.success, result.exception
        runs.append(snapshot(db, ("analytics",), skip={WATERMARKS}))
    assert runs[0] == runs[1]
    # against the fixture, loaded in file order: only rowids (raw_row_id) and when a build
    # ran (fct_learner_course_days.changed_at) may differ
    assert _without_row_ids(db) == _without_row_ids(fixture_build.db)


def _without_row_ids(db) -> dict[str, list[tuple]]:
    relations = query(
        db,
        "select table_name, string_agg(column_name, ', ' order by ordinal_position) "
        "from information_schema.columns where table_schema = 'analytics' "
        "and column_name not in "
        "('raw_row_id', 'changed_at', 'learner_days_changed_at', 'rows_written') "
        "group by table_name",
    )
    return {
        name: query(db, f"select {columns} from analytics.{name} order by all")
        for name, columns in relations
    }


# Case 2 ------------------------------------------------------------------------------------


def test_empty_quoted_empty_whitespace_and_null_codes_are_null_and_counted(
    fixture_build: Build,
) -> None:
    db = fixture_build.db
    # enrolments 5-8: status null, "", spaces, tab
    statuses = query(
        db,
        "select enrolment_id, enrolment_status, is_enrolment_status_empty, is_cancelled "
        "from analytics.base_raw__enrolments where enrolment_id between 5 and 8 order by 1",
    )
    assert statuses == [(n, None, True, False) for n in (5, 6, 7, 8)]
    users = query(
        db,
        "select user_id, user_state, is_user_state_empty from analytics.base_raw__users "
        "where user_id between 5 and 8 order by 1",
    )
    assert users == [(n, None, True) for n in (5, 6, 7, 8)]
    courses = query(
        db, "select course_id, category, level from analytics.base_raw__courses order by 1"
    )
    assert courses == [
        (201, "Data Science", "beginner"),
        (202, None, None),
        (203, None, "advanced"),
        (204, None, "intermediate"),
    ]
    (gus_event,) = query(
        db,
        "select event_type, is_unknown_type from analytics.int_events__flagged where event_id = 7",
    )
    assert gus_event == (None, True)
    quality = _quality(db)
    assert {k: quality[k] for k in data.QUALITY if k.endswith("_empty")} == {
        "users_state_empty": 4,
        "courses_category_empty": 3,
        "courses_level_empty": 1,
        "enrolments_status_empty": 4,
        "enrolments_enrolled_at_empty": 1,  # Eve's enrolment 12: still a learner of 201
    }
    # a blank status is not cancelled: Eve, Fay, Gus and Hal are the learners of course 202
    (learners,) = query(
        db, "select learners from analytics.mart_course_engagement where course_id = 202"
    )
    assert learners == (4,)


# Case 3 ------------------------------------------------------------------------------------


def test_unknown_status_and_type_are_counted_and_below_the_share_pass(
    fixture_build: Build,
) -> None:
    quality = _quality(fixture_build.db)
    assert quality["enrolments_status_unknown"] == 1  # 'refunded': 1 of 12 rows, 8.33%
    assert quality["events_unknown_type"] == 2  # forum_post and a blank type: 2 of 21, 9.52%
    assert fixture_build.result.statuses[SHARE_TEST] == "pass"  # both below 10%
    # 'refunded' is not cancelled (Cara is a learner of 203); forum_post still counts (Fay)
    mart = dict(
        query(
            fixture_build.db,
            "select course_id, active_learners from analytics.mart_course_engagement",
        )
    )
    assert (mart[203], mart[202]) == (1, 4)


# 2 more unknown statuses (3 of 14 = 21.43%) and one more unknown type (3 of 22 = 13.64%)
ABOVE_SHARE = {
    **data.ROWS,
    "enrolments": [
        *data.ENROLMENTS,
        "13,6,201,2026-01-10 00:00:00,on_hold",
        "14,7,201,2026-01-10 00:00:00,Refunded",
    ],
    "events": [*data.EVENTS, "20,6,202,forum_post,2026-03-08 13:00:00,s20,forum:2"],
}


def test_unknown_shares_above_their_vars_fail_before_the_marts_naming_the_share(
    fixture_build: Build, tmp_path, dbt_runner_in_worker, monkeypatch, capsys
) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    mart_before = snapshot(db, ("analytics",))["analytics.mart_course_engagement"]
    load(_written(tmp_path, ABOVE_SHARE), db)
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(db))

    # event types are counted per load batch, in the intermediate layer: the check reads the
    # day's rows, not history, and stops the build before any mart
    dbt_runner.build_layer("base", data.AS_OF_DATE, Settings.from_env(), tmp_path / "run" / "base")
    with pytest.raises(dbt_runner.DbtTestFailure) as failure:
        dbt_runner.build_layer(
            "intermediate", data.AS_OF_DATE, Settings.from_env(), tmp_path / "run" / "int"
        )

    assert failure.value.failures == [
        f"{SHARE_TEST} [fail] (2 failing rows): Got 2 results, configured to fail if != 0"
    ]
    log = capsys.readouterr().out
    assert (
        "unknown enrolment status share 21.43% (3 of 14 raw rows) is above "
        "max_unknown_enrolment_status_share = 10.00%" in log
    )
    assert (
        "unknown event type share 13.64% (3 of 22 raw rows) is above "
        "max_unknown_event_type_share = 10.00%" in log
    )
    # the marts layer never ran: the mart is the one built before
    assert snapshot(db, ("analytics",))["analytics.mart_course_engagement"] == mart_before


def test_the_share_limits_are_dbt_vars(fixture_build: Build, tmp_path, dbt_worker) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    load(_written(tmp_path, ABOVE_SHARE), db)
    result = dbt_worker.run(
        db,
        *dbt_args(
            "build",
            tmp_path / "dbt",
            data.AS_OF_DATE,
            "--select",
            SHARE_TEST.rsplit(".", 1)[1],
            max_unknown_enrolment_status_share=0.25,
            max_unknown_event_type_share=0.15,
        ),
    )
    assert result.success and result.statuses[SHARE_TEST] == "pass"


def _written(root, rows):
    return write_raw_csvs(root / "data", rows)


# Case 4 and case 8 (future events) ----------------------------------------------------------


def test_every_raw_event_row_is_counted_or_excluded_for_exactly_one_reason(
    fixture_build: Build,
) -> None:
    sql = "select reason, event_rows from analytics.mart_event_reconciliation"
    reasons = dict(query(fixture_build.db, sql))
    assert reasons == data.RECONCILIATION
    assert sum(reasons.values()) == len(data.EVENTS) == 21
    quality = _quality(fixture_build.db)
    assert {k: quality[k] for k in data.QUALITY if k.startswith("events_")} == {
        k: v for k, v in data.QUALITY.items() if k.startswith("events_")
    }


def test_an_event_before_enrolment_counts_and_is_flagged(fixture_build: Build) -> None:
    (dan,) = query(
        fixture_build.db,
        "select is_before_enrolment, is_counted from analytics.int_events__flagged "
        "where event_id = 4",
    )
    assert dan == (True, True)
    assert _quality(fixture_build.db)["events_before_enrolment"] == 1


def test_an_event_after_as_of_date_is_not_counted_and_is_reported(fixture_build: Build) -> None:
    (event,) = query(
        fixture_build.db,
        "select exclusion_reason from analytics.int_events__flagged where event_id = 9",
    )
    assert event == ("future",)  # 2026-03-11 00:00:00, the first instant after the date
    (last,) = query(
        fixture_build.db,
        "select last_activity from analytics.mart_course_engagement where course_id = 201",
    )
    assert last == (dt.datetime(2026, 3, 8, 9, 0),)


def test_the_mart_has_the_hand_computed_numbers(fixture_build: Build) -> None:
    rows = query(
        fixture_build.db,
        f"select course_id, {', '.join(data.MART_COLUMNS)} from analytics.mart_course_engagement",
    )
    assert {row[0]: row[1:] for row in rows} == data.MART


# Case 9 ------------------------------------------------------------------------------------


def test_the_same_export_loaded_twice_gives_identical_tables(
    fixture_build: Build, dbt_worker, tmp_path
) -> None:
    db = copy_db(fixture_build.db, tmp_path / "db")
    load(fixture_build.data_dir, db)  # the same files again, into the built database
    result = dbt_worker.run(db, *dbt_args("run", tmp_path / "dbt", data.AS_OF_DATE))
    assert result.success, result.exception

    audit = "raw.load_audit"  # a history: one row per file per load
    skip = {audit, WATERMARKS}
    assert snapshot(db, skip=skip) == snapshot(fixture_build.db, skip=skip)
    assert query(db, f"select count(*) from {audit}") == [(8,)]
