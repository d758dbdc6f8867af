"""Appending a day of events (`load --append raw_events_<date>.csv`) on real DuckDB files.

History is three events (ids 1-3, file lines 2-4); each day file is written here, so every
count below can be checked by reading this file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import corrupt
import duckdb
import pytest

from course_engagement import cli
from course_engagement.contract import EVENTS
from course_engagement.ingest.event_files import DROP_MISSING_FLAG as DROP_FLAG
from course_engagement.ingest.load_cli import main
from course_engagement.ingest.loader import AlreadyLoaded, FileAudit, LoadError, append, load
from course_engagement.orchestration import tasks
from course_engagement.settings import Settings

USERS = """\
id,fullName,email,signupDate,state,isGovEmployee,updatedAt,deleted
1,Ada Lovelace,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,false
"""
COURSES = """\
course_id,title,category_name,level,publisher,course_created_at
10,SQL Basics,Data,Beginner,Academy North,2023-12-01
"""
ENROLMENTS = """\
enrolment_id,user_id,course_id,enrolled_at,status
100,1,10,2024-02-05 08:00:00,active
"""
HEADER = "id,user_id,course_id,event_type,event_timestamp,session_id,metadata\n"
HISTORY = (
    HEADER
    + "1,1,10,video_start,2024-03-01 10:00:00,s1,video:1\n"
    + "2,1,10,video_complete,2024-03-01 10:12:30,s1,\n"
    + '3,1,10,page_view,2024-03-01 11:00:00,s2,"two\nlines"\n'  # one record, two lines
)
# 2024-03-02: line 3 has a bad user id, so 4 data lines = 3 loaded + 1 rejected.
DAY_2 = (
    HEADER
    + "4,1,10,quiz_start,2024-03-02 09:00:00,s3,quiz:1\n"
    + "5,one,10,quiz_submit,2024-03-02 09:05:00,s3,quiz:1\n"
    + "6,1,10,quiz_submit,2024-03-02 09:06:00,s3,quiz:1\n"
    + "2,1,10,video_complete,2024-03-01 10:12:30,s1,\n"  # a late duplicate of event 2
)
DAY_10 = HEADER + "7,1,10,download,2024-03-10 08:00:00,s4,file:a\n"
EVENTS_SQL = "SELECT id, event_type FROM raw.events ORDER BY id, event_type"
AUDIT_SQL = (
    "SELECT file_name, data_lines, loaded_rows, rejected_lines FROM raw.load_audit "
    "ORDER BY loaded_at, file_name"
)
REJECTS_SQL = (
    "SELECT file_name, line_number, column_name, raw_line FROM raw.load_rejects "
    "ORDER BY file_name, line_number"
)
HISTORY_EVENTS = [(1, "video_start"), (2, "video_complete"), (3, "page_view")]
DAY_2_EVENTS = [(2, "video_complete"), (4, "quiz_start"), (6, "quiz_submit")]


def write_history(data_dir: Path, events: str = HISTORY) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, text in {
        "users": USERS,
        "courses": COURSES,
        "enrolments": ENROLMENTS,
        "events": events,
    }.items():
        corrupt.write(data_dir / f"raw_{name}.csv", text)
    return data_dir


def write_day(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return corrupt.write(folder / name, text)


def fetch(db: Path, *sqls: str) -> list[list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [con.execute(sql).fetchall() for sql in sqls]


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    """A database loaded with the history only (the day files live elsewhere)."""
    db = tmp_path / "warehouse.duckdb"
    load(write_history(tmp_path / "data"), db)
    return db


@pytest.fixture
def day_2(tmp_path: Path) -> Path:
    return write_day(tmp_path / "incoming", "raw_events_2024-03-02.csv", DAY_2)


def _append_cli(db: Path, *paths: Path) -> int:
    return main(["--db", str(db), "--max-reject-share", "0.5", "--append", *map(str, paths)])


def test_append_adds_the_day_and_prints_its_conservation_line(history_db, day_2, capsys):
    assert _append_cli(history_db, day_2) == 0

    assert capsys.readouterr().out.splitlines() == [
        "raw_events_2024-03-02.csv: 4 data lines = 3 loaded + 1 rejected"
    ]
    events, audit, rejects = fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL)
    assert events == sorted(HISTORY_EVENTS + DAY_2_EVENTS)
    assert audit[-1] == ("raw_events_2024-03-02.csv", 4, 3, 1)
    assert len(audit) == 5  # four files of the history load, then the day file
    # line numbers are the day file's own (header = line 1)
    assert rejects == [
        (
            "raw_events_2024-03-02.csv",
            3,
            "user_id",
            "5,one,10,quiz_submit,2024-03-02 09:05:00,s3,quiz:1",
        )
    ]


def test_audit_row_of_an_appended_file_has_its_sha256(history_db, day_2):
    append([day_2], history_db, max_reject_share=0.5)

    (rows,) = fetch(
        history_db,
        "SELECT sha256 FROM raw.load_audit WHERE file_name = 'raw_events_2024-03-02.csv'",
    )
    assert rows == [(hashlib.sha256(DAY_2.encode()).hexdigest(),)]


def test_loading_the_same_file_twice_adds_nothing(history_db, day_2, capsys):
    assert _append_cli(history_db, day_2) == 0
    before = fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL)
    capsys.readouterr()

    assert _append_cli(history_db, day_2) == 0

    out = capsys.readouterr().out
    sha = hashlib.sha256(DAY_2.encode()).hexdigest()
    assert re.fullmatch(
        rf"raw_events_2024-03-02\.csv: already loaded \(sha256 {sha[:12]}, loaded at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\); nothing added\n",
        out,
    )
    assert fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL) == before


def test_a_copy_under_another_date_is_recognised_by_its_content(history_db, day_2, tmp_path):
    append([day_2], history_db, max_reject_share=0.5)
    copy = write_day(tmp_path / "other", "raw_events_2024-03-03.csv", DAY_2)

    (outcome,) = append([copy], history_db, max_reject_share=0.5)

    assert isinstance(outcome, AlreadyLoaded)
    assert outcome.loaded_as == "raw_events_2024-03-02.csv"
    assert fetch(history_db, "SELECT count(*) FROM raw.events") == [[(6,)]]


def test_the_same_content_twice_in_one_append_loads_once(history_db, day_2, tmp_path):
    copy = write_day(tmp_path / "other", "raw_events_2024-03-03.csv", DAY_2)

    first, second = append([copy, day_2], history_db, max_reject_share=0.5)

    assert isinstance(first, FileAudit) and first.file_name == "raw_events_2024-03-02.csv"
    assert second.summary().startswith(
        "raw_events_2024-03-03.csv: already loaded (sha256 "
    ) and second.summary().endswith(
        "same content as raw_events_2024-03-02.csv in this append); nothing added"
    )
    assert fetch(history_db, "SELECT count(*) FROM raw.events") == [[(6,)]]


def test_other_content_under_a_loaded_name_is_refused(history_db, day_2, tmp_path, capsys):
    append([day_2], history_db, max_reject_share=0.5)
    before = fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL)
    changed = write_day(tmp_path / "fixed", "raw_events_2024-03-02.csv", DAY_2.replace("one", "1"))

    assert _append_cli(history_db, changed) == 2

    err = capsys.readouterr().err
    assert "a different raw_events_2024-03-02.csv" in err
    assert "would add that day's rows a second time" in err
    assert "course-engagement load" in err
    assert fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL) == before


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("raw_events_2024-02-30.csv", "'2024-02-30' is not a calendar date"),
        ("raw_events_20240302.csv", "expected a date as YYYY-MM-DD, got '20240302'"),
        ("raw_events_2024-03-02.parquet", "must be a CSV named raw_events_YYYY-MM-DD.csv"),
        ("events_2024-03-02.csv", "must be a CSV named raw_events_YYYY-MM-DD.csv"),
    ],
)
def test_a_day_file_must_be_named_for_a_calendar_date(history_db, tmp_path, capsys, name, problem):
    before = fetch(history_db, EVENTS_SQL, AUDIT_SQL)
    path = write_day(tmp_path / "incoming", name, DAY_10)

    assert _append_cli(history_db, path) == 2

    assert problem in capsys.readouterr().err
    assert fetch(history_db, EVENTS_SQL, AUDIT_SQL) == before


def test_a_day_file_with_another_header_is_refused(history_db, tmp_path, capsys):
    path = write_day(
        tmp_path / "incoming", "raw_events_2024-03-10.csv", DAY_10.replace("metadata", "meta")
    )

    assert _append_cli(history_db, path) == 2

    assert "header does not match the contract" in capsys.readouterr().err
    assert fetch(history_db, "SELECT count(*) FROM raw.events") == [[(3,)]]


def test_append_needs_a_loaded_database(tmp_path, day_2, capsys):
    db = tmp_path / "missing.duckdb"

    assert _append_cli(db, day_2) == 2

    assert "load the history first" in capsys.readouterr().err
    assert not db.exists()


def test_append_is_all_or_nothing(history_db, day_2, tmp_path, capsys):
    # the 2024-03-10 file rejects its only line (100% > 50%): the 03-02 file is not kept either
    broken = write_day(
        tmp_path / "incoming", "raw_events_2024-03-10.csv", corrupt.bad_cast(DAY_10, 2, "id", "x")
    )
    before = fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL)

    assert _append_cli(history_db, day_2, broken) == 2

    assert "raw_events_2024-03-10.csv: 1 of 1 data lines rejected" in capsys.readouterr().err
    assert fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL) == before


def test_a_blank_line_in_a_day_file_is_counted_in_that_file_only(history_db, tmp_path, capsys):
    # history holds a record over two lines; the day file's own accounting must not see it
    path = write_day(tmp_path / "incoming", "raw_events_2024-03-10.csv", DAY_10 + "\n")

    assert _append_cli(history_db, path) == 0

    assert capsys.readouterr().out == (
        "raw_events_2024-03-10.csv: 2 data lines = 1 loaded + 1 rejected\n"
    )
    (rejects,) = fetch(history_db, REJECTS_SQL)
    assert rejects == [("raw_events_2024-03-10.csv", 3, None, "")]


def test_full_load_reads_every_day_file_in_date_order(tmp_path, capsys):
    data_dir = write_history(tmp_path / "data")
    write_day(data_dir, "raw_events_2024-03-10.csv", DAY_10)
    write_day(data_dir, "raw_events_2024-03-02.csv", DAY_2)

    assert (
        main(
            [
                "--data-dir",
                str(data_dir),
                "--db",
                str(tmp_path / "full.duckdb"),
                "--max-reject-share",
                "0.5",
            ]
        )
        == 0
    )

    assert capsys.readouterr().out.splitlines() == [
        "raw_users.csv: 1 data lines = 1 loaded + 0 rejected",
        "raw_courses.csv: 1 data lines = 1 loaded + 0 rejected",
        "raw_enrolments.csv: 1 data lines = 1 loaded + 0 rejected",
        "raw_events.csv: 3 data lines = 3 loaded + 0 rejected",
        "raw_events_2024-03-02.csv: 4 data lines = 3 loaded + 1 rejected",
        "raw_events_2024-03-10.csv: 1 data lines = 1 loaded + 0 rejected",
    ]


def test_full_reload_of_the_folder_reproduces_history_plus_appends(history_db, tmp_path):
    day_10 = write_day(tmp_path / "incoming", "raw_events_2024-03-10.csv", DAY_10)
    day_2 = write_day(tmp_path / "incoming", "raw_events_2024-03-02.csv", DAY_2)
    append([day_10], history_db, max_reject_share=0.5)
    append([day_2], history_db, max_reject_share=0.5)
    data_dir = tmp_path / "data"
    for path in (day_2, day_10):
        write_day(data_dir, path.name, path.read_text())

    reloaded = tmp_path / "reloaded.duckdb"
    load(data_dir, reloaded, max_reject_share=0.5)

    assert fetch(reloaded, EVENTS_SQL, REJECTS_SQL) == fetch(history_db, EVENTS_SQL, REJECTS_SQL)
    assert fetch(reloaded, "SELECT count(*) FROM raw.events") == [[(7,)]]


def test_after_a_full_reload_with_the_day_file_appending_it_adds_nothing(tmp_path):
    data_dir = write_history(tmp_path / "data")
    day_2 = write_day(data_dir, "raw_events_2024-03-02.csv", DAY_2)
    db = tmp_path / "warehouse.duckdb"
    load(data_dir, db, max_reject_share=0.5)

    (outcome,) = append([day_2], db, max_reject_share=0.5)

    assert isinstance(outcome, AlreadyLoaded)
    assert fetch(db, "SELECT count(*) FROM raw.events") == [[(6,)]]


def test_course_engagement_load_append_is_the_same_command(history_db, day_2, capsys):
    assert (
        cli.main(
            ["load", "--db", str(history_db), "--max-reject-share", "0.5", "--append", str(day_2)]
        )
        == 0
    )

    assert "raw_events_2024-03-02.csv: 4 data lines = 3 loaded + 1 rejected" in (
        capsys.readouterr().out
    )


def test_appending_from_outside_the_data_directory_warns_with_the_cp_to_keep_it(
    history_db, day_2, tmp_path, capsys
):
    data_dir = tmp_path / "data"
    args = ["--data-dir", str(data_dir), "--db", str(history_db), "--max-reject-share", "0.5"]
    assert main([*args, "--append", str(day_2)]) == 0

    assert capsys.readouterr().err == (
        f"warning: {day_2} is not in the data directory {data_dir}; a full load "
        "(course-engagement load) refuses to run until it is there. Keep it: "
        f"cp {day_2} {data_dir}/\n"
    )


# ------------------------------------------------------ a full reload never drops a file silently

SHA_DAY_2 = hashlib.sha256(DAY_2.encode()).hexdigest()


def _loaded_at(db: Path, file_name: str) -> str:
    (rows,) = fetch(
        db, f"SELECT max(loaded_at) FROM raw.load_audit WHERE file_name = '{file_name}'"
    )
    return f"{rows[0][0]:%Y-%m-%d %H:%M:%S}"


def test_the_audit_records_the_path_each_file_was_loaded_from(history_db, day_2, tmp_path):
    append([day_2], history_db, max_reject_share=0.5)

    (rows,) = fetch(
        history_db, "SELECT file_name, source_path FROM raw.load_audit ORDER BY loaded_at, 1"
    )
    data_dir = (tmp_path / "data").resolve()
    assert rows == [
        ("raw_courses.csv", str(data_dir / "raw_courses.csv")),
        ("raw_enrolments.csv", str(data_dir / "raw_enrolments.csv")),
        ("raw_events.csv", str(data_dir / "raw_events.csv")),
        ("raw_users.csv", str(data_dir / "raw_users.csv")),
        ("raw_events_2024-03-02.csv", str(day_2.resolve())),
    ]


def test_a_full_reload_refuses_to_drop_a_day_appended_from_outside_the_folder(
    history_db, day_2, tmp_path, capsys
):
    append([day_2], history_db, max_reject_share=0.5)
    before = fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL)
    data_dir = tmp_path / "data"

    assert main(["--data-dir", str(data_dir), "--db", str(history_db)]) == 2

    at = _loaded_at(history_db, day_2.name)
    assert capsys.readouterr().err == (
        f"error: raw.events holds events file(s) that are not in the data directory "
        f"{data_dir}: raw_events_2024-03-02.csv (3 rows, sha256 {SHA_DAY_2}, loaded from "
        f"{day_2.resolve()} at {at} UTC). A full load rebuilds raw.events from that folder and "
        f"would drop their rows. Copy them into the folder (cp {day_2.resolve()} {data_dir}/) "
        "and load again, or, to drop them knowingly, run course-engagement load "
        "--drop-missing-day-files\n"
    )
    assert fetch(history_db, EVENTS_SQL, AUDIT_SQL, REJECTS_SQL) == before


def test_the_dags_load_task_fails_permanently_rather_than_drop_an_appended_day(
    history_db, day_2, tmp_path, monkeypatch
):
    append([day_2], history_db, max_reject_share=0.5)
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(history_db))
    monkeypatch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(tmp_path / "data"))

    with pytest.raises(LoadError, match="--drop-missing-day-files") as refused:
        tasks.load_raw(Settings.from_env())

    assert isinstance(refused.value, tasks.PERMANENT_FAILURES)  # no retry into the same wall
    assert fetch(history_db, EVENTS_SQL) == [sorted(HISTORY_EVENTS + DAY_2_EVENTS)]


def test_a_day_file_removed_from_the_folder_is_refused_too(tmp_path):
    data_dir = write_history(tmp_path / "data")
    day_2 = write_day(data_dir, "raw_events_2024-03-02.csv", DAY_2)
    db = tmp_path / "warehouse.duckdb"
    load(data_dir, db, max_reject_share=0.5)
    day_2.unlink()

    with pytest.raises(LoadError, match=r"raw_events_2024-03-02\.csv \(3 rows, sha256 "):
        load(data_dir, db, max_reject_share=0.5)

    assert fetch(db, "SELECT count(*) FROM raw.events") == [[(6,)]]


def test_a_day_kept_under_another_name_in_the_folder_is_not_missing(tmp_path):
    data_dir = write_history(tmp_path / "data")
    day_2 = write_day(data_dir, "raw_events_2024-03-02.csv", DAY_2)
    db = tmp_path / "warehouse.duckdb"
    load(data_dir, db, max_reject_share=0.5)
    day_2.rename(data_dir / "raw_events_2024-03-03.csv")  # same rows, another name

    audits = load(data_dir, db, max_reject_share=0.5)

    assert [a.file_name for a in audits][-1] == "raw_events_2024-03-03.csv"
    assert fetch(db, "SELECT count(*) FROM raw.events") == [[(6,)]]


def test_the_history_file_may_change_format_between_loads(history_db, tmp_path):
    data_dir = tmp_path / "data"
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in EVENTS.columns)
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_csv('{data_dir / 'raw_events.csv'}', header = true, "
            f"columns = {{{columns}}})) TO '{data_dir / 'raw_events.parquet'}' (FORMAT parquet)"
        )
    (data_dir / "raw_events.csv").unlink()

    audits = load(data_dir, history_db)  # raw_events.csv is not "missing": the history changed

    assert [a.file_name for a in audits][-1] == "raw_events.parquet"
    assert fetch(history_db, EVENTS_SQL) == [HISTORY_EVENTS]


def test_drop_missing_day_files_drops_it_knowingly_and_says_so(history_db, day_2, tmp_path, capsys):
    append([day_2], history_db, max_reject_share=0.5)
    capsys.readouterr()

    assert main(["--data-dir", str(tmp_path / "data"), "--db", str(history_db), DROP_FLAG]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "raw_users.csv: 1 data lines = 1 loaded + 0 rejected",
        "raw_courses.csv: 1 data lines = 1 loaded + 0 rejected",
        "raw_enrolments.csv: 1 data lines = 1 loaded + 0 rejected",
        "raw_events.csv: 3 data lines = 3 loaded + 0 rejected",
        f"raw_events_2024-03-02.csv: dropped from raw.events (3 rows, sha256 {SHA_DAY_2}, "
        f"loaded from {day_2.resolve()}); not in the data directory, --drop-missing-day-files "
        "given",
    ]
    assert fetch(history_db, EVENTS_SQL, REJECTS_SQL) == [HISTORY_EVENTS, []]
    (outcome,) = append([day_2], history_db, max_reject_share=0.5)  # it can come back
    assert isinstance(outcome, FileAudit)
    assert fetch(history_db, EVENTS_SQL) == [sorted(HISTORY_EVENTS + DAY_2_EVENTS)]


def test_drop_missing_day_files_is_refused_with_append(history_db, day_2, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--db", str(history_db), "--append", str(day_2), DROP_FLAG])

    assert exit_.value.code == 2
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .endswith("error: argument --drop-missing-day-files: not allowed with argument --append")
    )
    assert fetch(history_db, "SELECT count(*) FROM raw.events") == [[(3,)]]


def test_an_audit_table_without_source_path_is_migrated(history_db, day_2, tmp_path):
    with duckdb.connect(str(history_db)) as con:  # as a database loaded before this change
        con.execute("ALTER TABLE raw.load_audit DROP COLUMN source_path")
    append([day_2], history_db, max_reject_share=0.5)

    (rows,) = fetch(
        history_db, "SELECT file_name, source_path FROM raw.load_audit ORDER BY loaded_at, 1"
    )
    assert rows[-1] == ("raw_events_2024-03-02.csv", str(day_2.resolve()))
    assert {path for _, path in rows[:-1]} == {None}
    with pytest.raises(LoadError) as refused:  # the history file has no recorded path
        with duckdb.connect(str(history_db)) as con:
            con.execute("UPDATE raw.load_audit SET source_path = NULL")
        load(tmp_path / "data", history_db)
    assert (
        f"raw_events_2024-03-02.csv (3 rows, sha256 {SHA_DAY_2}, loaded from a path not "
        "recorded (loaded before source paths were kept) at "
    ) in str(refused.value)
    assert "Copy them into the folder and load again" in str(refused.value)


def test_a_folder_with_a_day_file_identical_to_raw_events_is_refused_naming_both(tmp_path):
    data_dir = write_history(tmp_path / "data")
    write_day(data_dir, "raw_events_2024-03-01.csv", HISTORY)
    db = tmp_path / "warehouse.duckdb"

    with pytest.raises(LoadError) as refused:
        load(data_dir, db)

    sha = hashlib.sha256(HISTORY.encode()).hexdigest()
    assert str(refused.value) == (
        f"{data_dir} holds the same events twice: raw_events.csv and "
        f"raw_events_2024-03-01.csv (sha256 {sha}) are identical, so a full load would count "
        "their rows twice. Keep one of each and remove the other copies from the data directory"
    )
    assert not db.exists()


def test_one_day_under_two_names_in_the_folder_is_refused_naming_both(history_db, tmp_path):
    data_dir = tmp_path / "data"
    write_day(data_dir, "raw_events_2024-03-02.csv", DAY_2)
    write_day(data_dir, "raw_events_2024-03-03.csv", DAY_2)
    write_day(data_dir, "raw_events_2024-03-10.csv", DAY_10)
    before = fetch(history_db, EVENTS_SQL, AUDIT_SQL)

    with pytest.raises(
        LoadError,
        match=(
            r"raw_events_2024-03-02\.csv and raw_events_2024-03-03\.csv "
            rf"\(sha256 {SHA_DAY_2}\) are identical"
        ),
    ):
        load(data_dir, history_db, max_reject_share=0.5)

    assert fetch(history_db, EVENTS_SQL, AUDIT_SQL) == before
