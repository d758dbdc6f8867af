"""Load batches: how the loader numbers events files, and how the models follow them.

One user, one course, one enrolment; events are written here a file at a time, so every batch
number and count below can be checked by reading this file. The dbt tests build a database
through a change of history and compare it with a fresh full refresh of the same files.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from dbt_harness import DbtRun

from course_engagement.ingest.loader import append, load

USERS = """\
id,fullName,email,signupDate,state,isGovEmployee,updatedAt,deleted
1,Ada Lovelace,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,false
2,Alan Turing,alan@example.org,2024-01-06,active,false,2024-02-01 09:30:00,false
"""
COURSES = """\
course_id,title,category_name,level,publisher,course_created_at
10,SQL Basics,Data,Beginner,Academy North,2023-12-01
"""
ENROLMENTS = """\
enrolment_id,user_id,course_id,enrolled_at,status
100,1,10,2024-02-05 08:00:00,active
101,2,10,2024-02-05 08:00:00,active
"""
HEADER = "id,user_id,course_id,event_type,event_timestamp,session_id,metadata\n"
HISTORY = (
    HEADER
    + "1,1,10,video_start,2024-03-01 10:00:00,s1,\n"
    + "2,1,10,quiz_submit,2024-03-01 10:05:00,s1,\n"
)
# history as another export tells it: event 2 now belongs to user 2, event 3 is new
OTHER_HISTORY = (
    HEADER
    + "1,1,10,video_start,2024-03-01 10:00:00,s1,\n"
    + "2,2,10,quiz_submit,2024-02-20 10:05:00,s1,\n"
    + "3,2,10,page_view,2024-03-01 12:00:00,s9,\n"
)
DAY_2 = HEADER + "4,1,10,quiz_submit,2024-03-02 09:00:00,s3,\n"
DAY_3 = (
    HEADER
    + "5,2,10,video_complete,2024-03-03 09:00:00,s4,\n"
    + "1,1,10,video_start,2024-03-01 09:00:00,s0,\n"  # event 1 again, earlier: it wins
)
AS_OF = "2024-03-03"
BATCHES_SQL = "select load_batch_id, file_name, loaded_rows from raw.load_batches order by 1"
ROWS_SQL = "select id, load_batch_id from raw.events order by id, load_batch_id"


def _data(folder: Path, events: str = HISTORY, **days: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("raw_users.csv", USERS),
        ("raw_courses.csv", COURSES),
        ("raw_enrolments.csv", ENROLMENTS),
        ("raw_events.csv", events),
    ):
        (folder / name).write_text(text)
    for day, text in days.items():
        (folder / f"raw_events_{day.replace('_', '-')}.csv").write_text(text)
    return folder


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_events_file_is_a_batch_and_every_row_carries_its_number(tmp_path: Path):
    data = _data(tmp_path / "data", **{"2024_03_02": DAY_2})
    db = tmp_path / "w.duckdb"
    load(data, db)
    assert _query(db, BATCHES_SQL) == [
        (1, "raw_events.csv", 2),
        (2, "raw_events_2024-03-02.csv", 1),
    ]
    assert _query(db, ROWS_SQL) == [(1, 1), (2, 1), (4, 2)]


def test_the_same_files_loaded_again_keep_their_numbers_and_an_append_takes_the_next(
    tmp_path: Path,
):
    data = _data(tmp_path / "data")
    db = tmp_path / "w.duckdb"
    load(data, db)
    day = tmp_path / "raw_events_2024-03-02.csv"
    day.write_text(DAY_2)
    append([day], db)
    shutil.copyfile(day, data / day.name)
    load(data, db)  # the folder now holds what was appended: nothing changes
    assert _query(db, BATCHES_SQL) == [
        (1, "raw_events.csv", 2),
        (2, "raw_events_2024-03-02.csv", 1),
    ]
    assert _query(db, ROWS_SQL) == [(1, 1), (2, 1), (4, 2)]


def test_a_reload_of_other_history_is_numbered_above_every_batch_before(tmp_path: Path):
    data = _data(tmp_path / "data", **{"2024_03_02": DAY_2})
    db = tmp_path / "w.duckdb"
    load(data, db)
    _data(data, OTHER_HISTORY)
    load(data, db)
    # raw_events.csv differs, so it and every file after it get numbers never used before
    assert _query(db, BATCHES_SQL) == [
        (3, "raw_events.csv", 3),
        (4, "raw_events_2024-03-02.csv", 1),
    ]
    assert _query(db, "select max(load_batch_id) from raw.load_audit") == [(4,)]


def test_a_reload_that_drops_a_day_never_gives_its_number_to_another_file(tmp_path: Path):
    data = _data(tmp_path / "data", **{"2024_03_02": DAY_2})
    db = tmp_path / "w.duckdb"
    load(data, db)
    (data / "raw_events_2024-03-02.csv").unlink()
    load(data, db, drop_missing_day_files=True)  # refused without it (event_files)
    assert _query(db, BATCHES_SQL) == [(1, "raw_events.csv", 2)]
    day = tmp_path / "raw_events_2024-03-03.csv"
    day.write_text(DAY_3)
    append([day], db)  # batch 2 meant the dropped day: this file is batch 3
    assert _query(db, BATCHES_SQL) == [
        (1, "raw_events.csv", 2),
        (3, "raw_events_2024-03-03.csv", 2),
    ]


# ----------------------------------------------------------------------------------- dbt

MODELS = (
    "int_events__deduplicated",
    "int_user_course__daily_activity",
    "int_user_course__activity_totals",
    "int_load_batches__event_rows",
    "int_events__date_counts",
    "mart_course_engagement",
    "mart_event_reconciliation",
    "mart_data_quality",
)
# how a row got there, not what it says (and a reloaded database numbers its batches above
# every batch before, where a fresh one starts at 1)
BOOKKEEPING = {
    "int_events__deduplicated": "load_batch_id, payload_change, previous_load_batch_id, "
    "previous_exact_duplicate_row_count, previous_conflicting_payload_count, "
    "replaced_user_id, replaced_course_id, replaced_event_type, replaced_event_at",
    "int_user_course__daily_activity": "load_batch_id",
    "int_user_course__activity_totals": "load_batch_id",
    "int_load_batches__event_rows": "load_batch_id",
    "int_events__date_counts": "load_batch_id",
}


def _vars(**extra: object) -> list[str]:
    return ["--vars", json.dumps({"as_of_date": AS_OF, **extra})]


def _differences(a: Path, b: Path) -> dict[str, list[int]]:
    found = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        for model in MODELS:
            columns = "*" + (f" exclude ({BOOKKEEPING[model]})" if model in BOOKKEEPING else "")
            one, other = (f"select {columns} from {side}.analytics.{model}" for side in "ab")
            counts = [
                con.execute(f"select count(*) from ({x} except all {y})").fetchone()[0]
                for x, y in ((one, other), (other, one))
            ]
            if counts != [0, 0]:
                found[model] = counts
    return found


def _fresh(folder: Path, data: Path) -> DbtRun:
    """A fresh database of `data`, built with --full-refresh: what the other must equal."""
    fresh = DbtRun(folder / "fresh.duckdb", folder / "fresh")
    load(data, fresh.db_path)
    fresh.dbt(["build", "--full-refresh", "--exclude", "test_type:unit", *_vars()])
    return fresh


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, DbtRun]:
    """A database built on history and a day, then on another history reloaded under it,
    built without --full-refresh; and a fresh full refresh of the reloaded files (built
    alongside, in its own dbt process)."""
    root = tmp_path_factory.mktemp("reloaded")
    final = _data(root / "final", OTHER_HISTORY, **{"2024_03_02": DAY_2})
    with ThreadPoolExecutor(max_workers=1) as pool:
        fresh = pool.submit(_fresh, root, final)
        data = _data(root / "data", **{"2024_03_02": DAY_2})
        run = DbtRun(root / "w.duckdb", root / "w")
        load(data, run.db_path)
        run.dbt(["build", "--exclude", "test_type:unit", *_vars()])
        load(final, run.db_path)
        run.dbt(["build", "--exclude", "test_type:unit", *_vars(data_tests_from_load_batch=3)])
        return run, fresh.result()


@pytest.mark.extended
def test_a_reload_of_other_history_makes_the_models_rebuild_by_themselves(reloaded):
    run, fresh = reloaded
    assert _differences(run.db_path, fresh.db_path) == {}
    # the old history is gone: event 2 is user 2's now, event 3 is there
    assert run.query(
        "select event_id, user_id from analytics.int_events__deduplicated order by 1"
    ) == [(1, 1), (2, 2), (3, 2), (4, 1)]


@pytest.mark.extended
def test_a_day_after_a_run_that_stopped_halfway_is_still_exact(tmp_path: Path):
    # the dedup model takes batch 3 but the daily model does not run (as when a test of the
    # dedup model fails); batch 4 then changes event 1's kept payload again. The daily model
    # never saw batch 3's state, so it rebuilds rather than take off a payload it never added.
    early = HEADER + "1,1,10,video_start,2024-02-29 09:00:00,s0,\n"  # event 1, earlier still
    final = _data(
        tmp_path / "final", **{"2024_03_02": DAY_2, "2024_03_03": DAY_3, "2024_03_04": early}
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        fresh = pool.submit(_fresh, tmp_path, final)
        run = DbtRun(tmp_path / "w.duckdb", tmp_path / "w")
        load(_data(tmp_path / "data", **{"2024_03_02": DAY_2}), run.db_path)
        run.dbt(["build", "--exclude", "test_type:unit", *_vars()])
        append([final / "raw_events_2024-03-03.csv"], run.db_path)
        run.dbt(["run", "--select", "int_events__deduplicated", *_vars()])
        append([final / "raw_events_2024-03-04.csv"], run.db_path)
        run.dbt(["build", "--exclude", "test_type:unit", *_vars(data_tests_from_load_batch=3)])
        assert _differences(run.db_path, fresh.result().db_path) == {}
    assert run.query(
        "select activity_date, event_count from analytics.int_user_course__daily_activity "
        "where user_id = 1 order by 1"
    ) == [(dt.date(2024, 2, 29), 1), (dt.date(2024, 3, 1), 1), (dt.date(2024, 3, 2), 1)]
