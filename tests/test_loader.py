"""The loader on real DuckDB files, with CSVs small enough to check every number by hand.

Opening a DuckDB database costs tens of milliseconds, so loads that many tests only read are
done once per module (`good_db`, `row_level_db`) and each test reads through one connection.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from datetime import datetime
from pathlib import Path

import corrupt
import duckdb
import pytest

from course_engagement.ingest.load_cli import main
from course_engagement.ingest.loader import LoadError, load

USERS = """\
id,fullName,email,signupDate,state,isGovEmployee,updatedAt,deleted
1,Ada Lovelace,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,false
2,Alan Turing,alan@example.org,2024-01-06,pending,true,2024-02-02 10:00:00,
3,Grace Hopper,grace@example.org,2024-01-07,active,false,2024-02-03 11:15:30,true
"""
COURSES = """\
course_id,title,category_name,level,publisher,course_created_at
10,SQL Basics,Data,Beginner,Academy North,2023-12-01
11,Advanced dbt,Data,Advanced,TechSkills,2023-12-15
"""
ENROLMENTS = """\
enrolment_id,user_id,course_id,enrolled_at,status
100,1,10,2024-02-05 08:00:00,active
101,2,10,2024-02-06 09:00:00,completed
102,3,11,2024-02-07 10:00:00,cancelled
"""
# Data lines are file lines 2..11 (the header is line 1); event id 1000 is on line 2.
EVENTS = """\
id,user_id,course_id,event_type,event_timestamp,session_id,metadata
1000,1,10,video_start,2024-03-01 10:00:00,s1,video:1
1001,1,10,video_complete,2024-03-01 10:12:30,s1,
1002,2,10,quiz_start,2024-03-10 02:30:00,s2,quiz:attempt
1003,2,10,quiz_submit,2024-03-10 02:41:05,s2,quiz:pass
1004,3,11,page_view,2024-12-31 23:59:59,s3,
1005,3,11,download,2024-06-01 00:00:00,s4,file:notes.pdf
1006,1,11,page_view,2024-06-02 08:15:00,s5,
1007,2,11,video_start,2024-06-03 12:00:00,s6,video:7
1008,2,11,video_complete,2024-06-03 12:30:00,s6,video:7
1009,3,10,other,2024-07-04 18:45:10,s7,
"""
GOOD = {"users": USERS, "courses": COURSES, "enrolments": ENROLMENTS, "events": EVENTS}
RAW_TABLES = ("users", "courses", "enrolments", "events")
EVENT_IDS = [(i,) for i in range(1000, 1010)]


def write_data(data_dir: Path, **overrides: str | bytes | None) -> Path:
    """The good files, with some replaced (by text or bytes) or removed (by None)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for table, text in {**GOOD, **overrides}.items():
        if text is not None:
            corrupt.write(data_dir / f"raw_{table}.csv", text)
    return data_dir


def fetch(db_path: Path, *sqls: str) -> list[list[tuple]]:
    """Run queries through one read-only connection."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return [con.execute(sql).fetchall() for sql in sqls]


def snapshot(db_path: Path) -> dict[str, list[tuple]]:
    """Every table of the raw schema, sorted, so two databases compare exactly."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        names = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall()
        return {name: sorted(con.execute(f"FROM raw.{name}").fetchall()) for (name,) in names}


REJECTS = (
    "SELECT file_name, line_number, column_name, error, raw_line "
    "FROM raw.load_rejects ORDER BY file_name, line_number"
)
EVENTS_AUDIT = (
    "SELECT data_lines, loaded_rows, rejected_lines FROM raw.load_audit "
    "WHERE file_name = 'raw_events.csv'"
)


def load_events(tmp_path: Path, events: str | bytes) -> tuple[list[tuple], list[tuple]]:
    """Load the good set with these events; return (events audit, load_rejects)."""
    db = tmp_path / "events.duckdb"
    load(write_data(tmp_path / "data", events=events), db, max_reject_share=1)
    audit, rejects = fetch(db, EVENTS_AUDIT, REJECTS)
    return audit, rejects


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture(scope="module")
def good_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[tuple]]]:
    """One good load, and its tables; tests copy the file instead of loading again."""
    root = tmp_path_factory.mktemp("good")
    load(write_data(root / "data"), root / "good.duckdb")
    return root / "good.duckdb", snapshot(root / "good.duckdb")


@pytest.fixture
def loaded_db(good_db: tuple[Path, dict], db: Path) -> Path:
    """A copy of the good database, to prove a failed load leaves it untouched."""
    shutil.copyfile(good_db[0], db)
    return db


# Clean load --------------------------------------------------------------------------------


def test_clean_load_counts_every_line_and_prints_conservation(tmp_path, db, capsys):
    assert main(["--data-dir", str(write_data(tmp_path / "data")), "--db", str(db)]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "raw_users.csv: 3 data lines = 3 loaded + 0 rejected",
        "raw_courses.csv: 2 data lines = 2 loaded + 0 rejected",
        "raw_enrolments.csv: 3 data lines = 3 loaded + 0 rejected",
        "raw_events.csv: 10 data lines = 10 loaded + 0 rejected",
    ]
    tables = snapshot(db)
    assert {t: len(tables[t]) for t in RAW_TABLES} == {
        "users": 3,
        "courses": 2,
        "enrolments": 3,
        "events": 10,
    }
    assert tables["load_rejects"] == []


def test_audit_has_one_row_per_file_with_counts_and_sha256(good_db):
    (audit,) = fetch(
        good_db[0],
        "SELECT file_name, sha256, data_lines, loaded_rows, rejected_lines, "
        "count(*) OVER (PARTITION BY loaded_at) FROM raw.load_audit ORDER BY file_name",
    )

    sha = {t: hashlib.sha256(text.encode()).hexdigest() for t, text in GOOD.items()}
    assert audit == [
        ("raw_courses.csv", sha["courses"], 2, 2, 0, 4),
        ("raw_enrolments.csv", sha["enrolments"], 3, 3, 0, 4),
        ("raw_events.csv", sha["events"], 10, 10, 0, 4),
        ("raw_users.csv", sha["users"], 3, 3, 0, 4),
    ]


def test_raw_tables_have_contract_types_and_file_column_names(good_db):
    columns, flags = fetch(
        good_db[0],
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = 'users' ORDER BY ordinal_position",
        'SELECT "isGovEmployee", deleted FROM raw.users ORDER BY id',
    )

    assert columns == [
        ("id", "BIGINT"),
        ("fullName", "VARCHAR"),
        ("email", "VARCHAR"),
        ("signupDate", "DATE"),
        ("state", "VARCHAR"),
        ("isGovEmployee", "BOOLEAN"),
        ("updatedAt", "TIMESTAMP"),
        ("deleted", "BOOLEAN"),
    ]
    assert flags == [(False, False), (True, None), (False, True)]


def test_header_only_file_loads_an_empty_table(tmp_path, db, capsys):
    data_dir = write_data(tmp_path / "data", events=corrupt.header_only(EVENTS))

    assert main(["--data-dir", str(data_dir), "--db", str(db)]) == 0

    assert "raw_events.csv: 0 data lines = 0 loaded + 0 rejected" in capsys.readouterr().out
    assert fetch(db, "SELECT count(*) FROM raw.events") == [[(0,)]]


def test_rerun_with_same_files_gives_identical_tables(tmp_path, db):
    data_dir = write_data(tmp_path / "data", events=corrupt.bad_cast(EVENTS, 4, "id", "x"))
    load(data_dir, db, max_reject_share=1)
    first = snapshot(db)

    load(data_dir, db, max_reject_share=1)
    second = snapshot(db)

    audit_first, audit_second = first.pop("load_audit"), second.pop("load_audit")
    assert second == first
    assert len(second["load_rejects"]) == 1  # replaced by the rerun, not appended
    assert (len(audit_first), len(audit_second)) == (4, 8)  # a history: four files per load


def test_rejects_of_a_reloaded_file_are_replaced(tmp_path, db):
    data_dir = write_data(tmp_path / "data", events=corrupt.bad_cast(EVENTS, 4, "id", "x"))
    load(data_dir, db, max_reject_share=1)

    write_data(data_dir)  # the file is fixed
    load(data_dir, db, max_reject_share=1)

    assert fetch(db, REJECTS) == [[]]


def test_failed_load_into_new_database_leaves_no_file(tmp_path, db):
    data_dir = write_data(tmp_path / "data", events=corrupt.bad_cast(EVENTS, 4, "id", "x"))

    with pytest.raises(LoadError, match=r"raw_events\.csv"):
        load(data_dir, db)

    assert not db.exists()


# Structural errors -------------------------------------------------------------------------

STRUCTURAL = {
    "missing file": ({"courses": None}, ["raw_courses.csv is missing"]),
    "empty file": ({"users": corrupt.empty()}, ["raw_users.csv is empty (0 bytes)"]),
    "missing column": (
        {"users": corrupt.missing_column(USERS, "email")},
        ["raw_users.csv header", "missing column(s) email"],
    ),
    "extra column": (
        {"enrolments": corrupt.extra_column(ENROLMENTS, "referrer", "ads")},
        ["raw_enrolments.csv header", "unexpected column(s) referrer"],
    ),
    "renamed column": (
        {"users": corrupt.rename_column(USERS, "fullName", "full_name")},
        ["raw_users.csv header", "column 2 is 'full_name', expected 'fullName'"],
    ),
    "reordered columns": (
        {"events": corrupt.reorder_columns(EVENTS, "user_id", "course_id")},
        [
            "raw_events.csv header",
            "columns are reordered: 'user_id' expected at position 2; "
            "'course_id' expected at position 3",
        ],
    ),
    "not UTF-8 header": (
        {"courses": corrupt.invalid_utf8_header(COURSES)},
        ["raw_courses.csv is not UTF-8", "invalid byte 0xe9 at byte 0"],
    ),
}


@pytest.mark.parametrize("case", STRUCTURAL, ids=list(STRUCTURAL))
def test_structural_error_exits_2_naming_file_and_leaves_database_untouched(
    case, tmp_path, good_db, loaded_db, capsys
):
    overrides, expected = STRUCTURAL[case]
    data_dir = write_data(tmp_path / "broken", **overrides)

    code = main(["--data-dir", str(data_dir), "--db", str(loaded_db)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1  # one message
    for fragment in expected:
        assert fragment in err
    assert snapshot(loaded_db) == good_db[1]


def test_both_csv_and_parquet_for_a_table_is_an_error_naming_both(tmp_path, db):
    data_dir = write_data(tmp_path / "data")
    (data_dir / "raw_users.parquet").write_bytes(b"PAR1")

    with pytest.raises(LoadError, match=r"both .*raw_users\.csv and .*raw_users\.parquet"):
        load(data_dir, db)


def test_reject_share_above_threshold_fails_naming_file_and_share(
    tmp_path, good_db, loaded_db, capsys
):
    # 1 of 10 event lines rejected = 10%, above the default 5%.
    data_dir = write_data(tmp_path / "data", events=corrupt.bad_cast(EVENTS, 4, "id", "x"))

    code = main(["--data-dir", str(data_dir), "--db", str(loaded_db)])

    err = capsys.readouterr().err
    assert code == 2
    assert "raw_events.csv: 1 of 10 data lines rejected (share 10.00%)" in err
    assert "above the maximum reject share of 5.00%" in err
    assert "line 4 (id): CAST" in err
    assert snapshot(loaded_db) == good_db[1]


def test_latin1_file_with_a_clean_header_fails_as_not_utf8(tmp_path, good_db, loaded_db, capsys):
    latin1 = USERS.replace("Ada", "Adé").replace("Alan", "Alàn").encode("latin-1")
    data_dir = write_data(tmp_path / "data", users=latin1)

    code = main(["--data-dir", str(data_dir), "--db", str(loaded_db)])

    err = capsys.readouterr().err
    assert code == 2
    assert "raw_users.csv: 2 of 3 data lines rejected (share 66.67%)" in err
    assert "the file is probably not UTF-8" in err
    assert snapshot(loaded_db) == good_db[1]


def test_reject_share_threshold_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_ENGAGEMENT_MAX_REJECT_SHARE", "0.1")
    data_dir = write_data(tmp_path / "data", events=corrupt.bad_cast(EVENTS, 4, "id", "x"))

    audits = load(data_dir, tmp_path / "env.duckdb")

    assert [(a.data_lines, a.loaded_rows, a.rejected_lines) for a in audits][-1] == (10, 9, 1)


def test_reject_share_threshold_comes_from_the_argument(tmp_path, db, monkeypatch):
    monkeypatch.setenv("COURSE_ENGAGEMENT_MAX_REJECT_SHARE", "0")
    data_dir = write_data(tmp_path / "data", events=corrupt.bad_cast(EVENTS, 4, "id", "x"))

    assert main(["--data-dir", str(data_dir), "--db", str(db), "--max-reject-share", "0.1"]) == 0


# Row-level errors --------------------------------------------------------------------------
# What a rejected value's error adds to DuckDB's own cast message (ingest.csv_values).
NOT_A_PLAIN_INTEGER = (
    " without changing it; expected a plain integer: digits, an optional leading minus, "
    "no leading zeros"
)
NOT_A_TIMESTAMP = " without changing it; expected YYYY-MM-DD HH:MM:SS"
# One events file breaks lines 3..10 in eight different ways (lines 2 and 11 stay good), and
# line 3 of users has a bad boolean; loaded once, checked line by line.

ROW_LEVEL = {
    "bad int": (
        "raw_events.csv",
        3,
        "user_id",
        'CAST: Error when converting column "user_id". '
        "Could not convert string \"one\" to 'BIGINT'" + NOT_A_PLAIN_INTEGER,
        "1001,one,10,video_complete,2024-03-01 10:12:30,s1,",
    ),
    "bad timestamp": (
        "raw_events.csv",
        4,
        "event_timestamp",
        'CAST: Error when converting column "event_timestamp". '
        "Could not convert string \"2024-13-10 02:30:00\" to 'TIMESTAMP'" + NOT_A_TIMESTAMP,
        "1002,2,10,quiz_start,2024-13-10 02:30:00,s2,quiz:attempt",
    ),
    "timestamp with offset": (
        "raw_events.csv",
        5,
        "event_timestamp",
        'CAST: Error when converting column "event_timestamp". '
        "Could not convert string \"2024-03-10 02:41:05+02:00\" to 'TIMESTAMP'" + NOT_A_TIMESTAMP,
        "1003,2,10,quiz_submit,2024-03-10 02:41:05+02:00,s2,quiz:pass",
    ),
    "ISO T timestamp": (
        "raw_events.csv",
        6,
        "event_timestamp",
        'CAST: Error when converting column "event_timestamp". '
        "Could not convert string \"2024-12-31T23:59:59\" to 'TIMESTAMP'" + NOT_A_TIMESTAMP,
        "1004,3,11,page_view,2024-12-31T23:59:59,s3,",
    ),
    "short row": (
        "raw_events.csv",
        7,
        "metadata",
        "MISSING COLUMNS: Expected Number of Columns: 7 Found: 6",
        "1005,3,11,download,2024-06-01 00:00:00,s4",
    ),
    "long row": (
        "raw_events.csv",
        8,
        None,
        "TOO MANY COLUMNS: Expected Number of Columns: 7 Found: 8",
        "1006,1,11,page_view,2024-06-02 08:15:00,s5,,surplus",
    ),
    "bad quoting": (
        "raw_events.csv",
        9,
        "session_id",
        "UNQUOTED VALUE: Value with unterminated quote found.",
        '1007,2,11,video_start,2024-06-03 12:00:00,"s6"x,video:7',
    ),
    "invalid UTF-8": (
        "raw_events.csv",
        10,
        "metadata",
        "INVALID ENCODING: Invalid unicode (byte sequence mismatch) detected. "
        "This file is not utf-8 encoded.",
        "1008,2,11,video_complete,2024-06-03 12:30:00,s6,video:7?",
    ),
    "bad boolean": (
        "raw_users.csv",
        3,
        "isGovEmployee",
        'CAST: Error when converting column "isGovEmployee". '
        "Could not convert string \"maybe\" to 'BOOLEAN' without changing it; "
        "expected true, TRUE, false or FALSE",
        "2,Alan Turing,alan@example.org,2024-01-06,pending,maybe,2024-02-02 10:00:00,",
    ),
}


def _events_broken_on_every_line() -> bytes:
    text = corrupt.bad_cast(EVENTS, 3, "user_id", "one")
    text = corrupt.bad_cast(text, 4, "event_timestamp", "2024-13-10 02:30:00")
    text = corrupt.bad_cast(text, 5, "event_timestamp", "2024-03-10 02:41:05+02:00")
    text = corrupt.bad_cast(text, 6, "event_timestamp", "2024-12-31T23:59:59")
    text = corrupt.short_row(text, 7)
    text = corrupt.long_row(text, 8)
    text = corrupt.bad_quoting(text, 9, "session_id")
    return corrupt.invalid_utf8(text, 10, "metadata")


@pytest.fixture(scope="module")
def row_level_load(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("row_level")
    data_dir = write_data(
        root / "data",
        events=_events_broken_on_every_line(),
        users=corrupt.bad_cast(USERS, 3, "isGovEmployee", "maybe"),
    )
    db = root / "row_level.duckdb"
    audits = load(data_dir, db, max_reject_share=1)
    rejects, event_ids, user_ids = fetch(
        db, REJECTS, "SELECT id FROM raw.events ORDER BY id", "SELECT id FROM raw.users ORDER BY id"
    )
    return {
        "audits": {a.file_name: a for a in audits},
        "rejects": {(r[0], r[1]): r for r in rejects},
        "event_ids": event_ids,
        "user_ids": user_ids,
    }


@pytest.mark.parametrize("case", ROW_LEVEL, ids=list(ROW_LEVEL))
def test_row_level_error_is_rejected_with_its_line_and_column(case, row_level_load):
    file_name, line, column, error, raw_line = ROW_LEVEL[case]

    assert row_level_load["rejects"][file_name, line] == (file_name, line, column, error, raw_line)


def test_row_level_errors_keep_conservation_and_load_the_good_lines(row_level_load):
    audits = row_level_load["audits"]

    assert len(row_level_load["rejects"]) == 9  # nothing else was rejected
    assert audits["raw_events.csv"].summary() == (
        "raw_events.csv: 10 data lines = 2 loaded + 8 rejected"
    )
    assert (
        audits["raw_users.csv"].summary() == "raw_users.csv: 3 data lines = 2 loaded + 1 rejected"
    )
    assert row_level_load["event_ids"] == [(1000,), (1009,)]
    assert row_level_load["user_ids"] == [(1,), (3,)]


def test_several_bad_values_on_one_line_are_one_rejected_line(tmp_path):
    events = corrupt.bad_cast(corrupt.bad_cast(EVENTS, 3, "id", "x"), 3, "course_id", "y")

    audit, rejects = load_events(tmp_path, events)

    assert audit == [(10, 9, 1)]
    assert [r[1:4] for r in rejects] == [
        (
            3,
            "id, course_id",
            'CAST: Error when converting column "id". Could not convert string "x" to \'BIGINT\''
            f"{NOT_A_PLAIN_INTEGER}; "
            'CAST: Error when converting column "course_id". '
            f"Could not convert string \"y\" to 'BIGINT'{NOT_A_PLAIN_INTEGER}",
        )
    ]


def test_unterminated_quote_rejects_every_line_it_swallows(tmp_path):
    # The quote opened on line 10 runs to the end of the file: lines 10 and 11 are lost.
    audit, rejects = load_events(tmp_path, corrupt.unterminated_quote(EVENTS, 10, "session_id"))

    unquoted = "UNQUOTED VALUE: Value with unterminated quote found."
    assert audit == [(10, 8, 2)]
    assert rejects == [
        (
            "raw_events.csv",
            10,
            "session_id",
            unquoted,
            '1008,2,11,video_complete,2024-06-03 12:30:00,"s6,video:7',
        ),
        (
            "raw_events.csv",
            11,
            "session_id",
            f"part of the record starting on line 10: {unquoted}",
            "1009,3,10,other,2024-07-04 18:45:10,s7,",
        ),
    ]


def test_blank_line_is_a_rejected_line_and_later_line_numbers_stay_physical(tmp_path):
    lines = corrupt.bad_cast(EVENTS, 5, "id", "x").split("\n")
    events = "\n".join([*lines[:2], "", *lines[2:]])  # blank line 3; the bad id moves to line 6

    audit, rejects = load_events(tmp_path, events)

    assert audit == [(11, 9, 2)]
    assert [r[1:3] for r in rejects] == [(3, None), (6, "id")]


def test_quoted_line_break_is_one_record_and_later_line_numbers_stay_physical(tmp_path):
    lines = corrupt.bad_cast(EVENTS, 5, "id", "x").split("\n")
    lines[1] = lines[1].replace("video:1", '"video\n1"')  # event 1000 spans lines 2 and 3

    audit, rejects = load_events(tmp_path, "\n".join(lines))

    assert audit == [(10, 9, 1)]
    assert [r[1:3] for r in rejects] == [(6, "id")]


def test_windows_line_endings_and_a_missing_final_newline_load(tmp_path):
    events = corrupt.bad_cast(EVENTS, 4, "id", "x").rstrip("\n").replace("\n", "\r\n")

    audit, rejects = load_events(tmp_path, events)

    assert audit == [(10, 9, 1)]
    assert [(r[1], r[2], r[4]) for r in rejects] == [
        (4, "id", "x,2,10,quiz_start,2024-03-10 02:30:00,s2,quiz:attempt")
    ]


# Timestamps and parquet --------------------------------------------------------------------


@pytest.fixture
def new_york_tz(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_timestamps_round_trip_exactly_whatever_the_process_time_zone(tmp_path, db, new_york_tz):
    # 2024-03-10 02:30:00 does not exist in New York (DST gap): any shift would show.
    load(write_data(tmp_path / "data"), db)

    as_text, as_python, types = fetch(
        db,
        "SELECT strftime(event_timestamp, '%Y-%m-%d %H:%M:%S') FROM raw.events ORDER BY id",
        "SELECT event_timestamp FROM raw.events WHERE id = 1002",
        "SELECT DISTINCT typeof(event_timestamp) FROM raw.events",
    )

    assert [value for (value,) in as_text] == [
        line.split(",")[4] for line in EVENTS.splitlines()[1:]
    ]
    assert as_python == [(datetime(2024, 3, 10, 2, 30, 0),)]
    assert types == [("TIMESTAMP",)]


def test_parquet_input_loads_the_same_tables_as_csv(tmp_path, good_db, db):
    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    with duckdb.connect(str(good_db[0]), read_only=True) as con:
        for table in RAW_TABLES:
            columns = "* exclude (load_batch_id)" if table == "events" else "*"  # not the file's
            con.execute(
                f"COPY (select {columns} from raw.{table}) "
                f"TO '{parquet_dir}/raw_{table}.parquet' (FORMAT parquet)"
            )

    audits = load(parquet_dir, db)

    assert [(a.file_name, a.data_lines, a.loaded_rows, a.rejected_lines) for a in audits] == [
        ("raw_users.parquet", 3, 3, 0),
        ("raw_courses.parquet", 2, 2, 0),
        ("raw_enrolments.parquet", 3, 3, 0),
        ("raw_events.parquet", 10, 10, 0),
    ]
    from_parquet = snapshot(db)
    assert {t: from_parquet[t] for t in RAW_TABLES} == {t: good_db[1][t] for t in RAW_TABLES}
    assert from_parquet["events"][:1] == [
        (1000, 1, 10, "video_start", datetime(2024, 3, 1, 10, 0), "s1", "video:1", 1)
    ]


def test_parquet_with_time_zone_timestamps_is_refused(tmp_path, db):
    data_dir = write_data(tmp_path / "data", events=None)
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 1::BIGINT AS id, 1::BIGINT AS user_id, 1::BIGINT AS course_id, "
            "'page_view' AS event_type, TIMESTAMPTZ '2024-03-01 10:00:00+00' AS event_timestamp, "
            "'s' AS session_id, NULL::VARCHAR AS metadata) "
            f"TO '{data_dir}/raw_events.parquet' (FORMAT parquet)"
        )

    with pytest.raises(LoadError, match=r"raw_events\.parquet .*event_timestamp is TIMESTAMP WITH"):
        load(data_dir, db)
    assert not db.exists()
