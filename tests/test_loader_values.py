"""No value changes on the way in: a value is loaded only if it prints back as its text.

Each fixed case writes a small file, loads it through the real loader and checks the exact
rejected lines (file, physical line, column) and the loaded values. The property test of the
invariant on generated records of every table is tests/test_loader_fuzz.py.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from course_engagement.contract import TABLES
from course_engagement.ingest.loader import LoadError, append, load

HEADERS = {table.name: table.header for table in TABLES}
GOOD_ROWS = {
    "users": "1,Ada Lovelace,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,",
    "courses": "10,SQL Basics,Data,Beginner,Academy North,2023-12-01",
    "enrolments": "100,1,10,2024-02-05 08:00:00,active",
    "events": "1000,1,10,video_start,2024-03-01 10:00:00,s1,video:1",
}
INTEGER = "to 'BIGINT' without changing it; expected a plain integer"
TIMESTAMP = "to 'TIMESTAMP' without changing it; expected YYYY-MM-DD HH:MM:SS"
DATE = "to 'DATE' without changing it; expected YYYY-MM-DD"
BOOLEAN = "to 'BOOLEAN' without changing it; expected true, TRUE, false or FALSE"


def write(data_dir: Path, **lines: list[str]) -> Path:
    """The four files, each the header plus these data lines (one good row by default)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for table, header in HEADERS.items():
        rows = lines.get(table, [GOOD_ROWS[table]])
        (data_dir / f"raw_{table}.csv").write_text("\n".join([header, *rows]) + "\n")
    return data_dir


def load_and_read(tmp_path: Path, table: str, rows: list[str], columns: str = "*") -> dict:
    """Load `rows` as the data lines of `table`; its rows (ordered by key), rejects and audit."""
    db = tmp_path / "values.duckdb"
    audits = load(write(tmp_path / "data", **{table: rows}), db, max_reject_share=1)
    key = next(t.key for t in TABLES if t.name == table)
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute(f'SELECT {columns} FROM raw.{table} ORDER BY "{key}"').fetchall()
        rejects = con.execute(
            "SELECT line_number, column_name, error, raw_line FROM raw.load_rejects "
            f"WHERE file_name = 'raw_{table}.csv' ORDER BY line_number"
        ).fetchall()
    audit = next(a for a in audits if a.file_name == f"raw_{table}.csv")
    return {"loaded": loaded, "rejects": rejects, "summary": audit.summary()}


def event(event_id: str, user_id: str = "1", timestamp: str = "2024-03-01 10:00:00") -> str:
    return f"{event_id},{user_id},10,page_view,{timestamp},s1,"


# Integers ----------------------------------------------------------------------------------

NOT_PLAIN_INTEGERS = ["12.6", "0x3E9", "1_002", "1.003e3", "0b101", "+1004", "01005", "-0", " 12"]


def test_integers_that_duckdb_would_convert_are_rejected_never_rounded(tmp_path):
    rows = [event("1000"), *(event(value) for value in NOT_PLAIN_INTEGERS), event("-7")]

    result = load_and_read(tmp_path, "events", rows, columns="id")

    assert result["loaded"] == [(-7,), (1000,)]  # 12.6 did not become event 13
    assert [(line, column) for line, column, _, _ in result["rejects"]] == [
        (line, "id") for line in range(3, 12)
    ]
    assert [error for _, _, error, _ in result["rejects"]] == [
        f'CAST: Error when converting column "id". Could not convert string "{value}" {INTEGER}'
        ": digits, an optional leading minus, no leading zeros"
        for value in NOT_PLAIN_INTEGERS
    ]
    assert result["rejects"][0][3] == "12.6,1,10,page_view,2024-03-01 10:00:00,s1,"
    assert result["summary"] == "raw_events.csv: 11 data lines = 2 loaded + 9 rejected"


def test_an_integer_outside_bigint_is_rejected_and_the_largest_loads_exactly(tmp_path):
    rows = [event("9223372036854775807"), event("9223372036854775808")]

    result = load_and_read(tmp_path, "events", rows, columns="id")

    assert result["loaded"] == [(9223372036854775807,)]
    assert [(line, column) for line, column, _, _ in result["rejects"]] == [(3, "id")]


def test_an_inexact_foreign_key_is_rejected_but_an_empty_one_loads(tmp_path):
    rows = [event("1000", user_id="1.5"), event("1001", user_id=""), event("1002", user_id="2")]

    result = load_and_read(tmp_path, "events", rows, columns="id, user_id")

    assert result["loaded"] == [(1001, None), (1002, 2)]  # dbt counts missing_user_or_course
    assert [(line, column) for line, column, _, _ in result["rejects"]] == [(2, "user_id")]


# Timestamps and dates ----------------------------------------------------------------------

NOT_TIMESTAMPS = [
    "epoch",
    "infinity",
    "-infinity",
    "25-01-01 10:00:00",  # DuckDB: the year 25
    " 025-01-01 10:00:00",
    "2025-1-1 1:2:3",
    "2025-01-01 24:00:00",  # DuckDB: the next day
    "2025-01-01 10:00:00.5",
    "10000-01-01 10:00:00",
    "0000-01-01 00:00:00",
]


def test_special_timestamp_literals_short_years_and_loose_formats_are_rejected(tmp_path):
    rows = [event(str(1000 + i), timestamp=value) for i, value in enumerate(NOT_TIMESTAMPS)]
    rows.append(event("2000", timestamp="0025-01-01 10:00:00"))

    result = load_and_read(tmp_path, "events", rows, columns="id, event_timestamp")

    assert result["loaded"] == [(2000, datetime(25, 1, 1, 10, 0))]  # four digits: exact
    assert [(line, column) for line, column, _, _ in result["rejects"]] == [
        (line, "event_timestamp") for line in range(2, 12)
    ]
    assert [error for _, _, error, _ in result["rejects"]] == [
        'CAST: Error when converting column "event_timestamp". '
        f'Could not convert string "{value}" {TIMESTAMP}'
        for value in NOT_TIMESTAMPS
    ]


def test_special_date_literals_and_two_digit_years_are_rejected(tmp_path):
    course = "{},SQL Basics,Data,Beginner,Academy North,{}"
    values = ["epoch", "infinity", "-infinity", "25-01-01", "2025-1-1", "2025-01-01 00:00:00"]
    rows = [course.format(10 + i, value) for i, value in enumerate(values)]
    rows.append(course.format(99, "2023-12-01"))

    result = load_and_read(tmp_path, "courses", rows, columns="course_id, course_created_at")

    assert result["loaded"] == [(99, date(2023, 12, 1))]
    assert [(line, column, error) for line, column, error, _ in result["rejects"]] == [
        (
            line,
            "course_created_at",
            'CAST: Error when converting column "course_created_at". '
            f'Could not convert string "{value}" {DATE}',
        )
        for line, value in enumerate(values, start=2)
    ]


# Booleans ----------------------------------------------------------------------------------


def test_booleans_other_than_the_generators_spellings_are_rejected(tmp_path):
    user = "{},Ada Lovelace,ada@example.org,2024-01-05,active,{},2024-02-01 09:30:00,{}"
    accepted = [("true", ""), ("false", "TRUE"), ("TRUE", "FALSE"), ("FALSE", "true")]
    refused = ["yes", "1", "T", "t", "True", "no", "0", "f"]
    rows = [user.format(i + 1, gov, deleted) for i, (gov, deleted) in enumerate(accepted)]
    rows += [user.format(i + 10, value, "") for i, value in enumerate(refused)]

    result = load_and_read(tmp_path, "users", rows, columns="id, isGovEmployee, deleted")

    assert result["loaded"] == [
        (1, True, None),
        (2, False, True),
        (3, True, False),
        (4, False, True),
    ]
    assert [(line, column, error) for line, column, error, _ in result["rejects"]] == [
        (
            line,
            "isGovEmployee",
            'CAST: Error when converting column "isGovEmployee". '
            f'Could not convert string "{value}" {BOOLEAN}',
        )
        for line, value in enumerate(refused, start=6)
    ]


# Empty keys --------------------------------------------------------------------------------


def test_an_empty_event_id_and_a_line_of_only_commas_are_rejected_on_their_lines(tmp_path):
    rows = [event("1000"), ",153,24,page_view,2024-03-01 10:00:00,s1,", ",,,,,,", event("1001")]

    result = load_and_read(tmp_path, "events", rows, columns="id")

    empty_id = 'EMPTY KEY: column "id" is empty; a row without its key cannot be loaded'
    assert result["loaded"] == [(1000,), (1001,)]
    assert result["rejects"] == [
        (3, "id", empty_id, ",153,24,page_view,2024-03-01 10:00:00,s1,"),
        (4, "id", empty_id, ",,,,,,"),
    ]
    assert result["summary"] == "raw_events.csv: 4 data lines = 2 loaded + 2 rejected"


@pytest.mark.parametrize(
    ("table", "row", "key"),
    [
        ("users", ",Ada,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,", "id"),
        ("courses", ",SQL Basics,Data,Beginner,Academy North,2023-12-01", "course_id"),
        ("enrolments", ",1,10,2024-02-05 08:00:00,active", "enrolment_id"),
    ],
)
def test_an_empty_key_is_rejected_in_every_table(tmp_path, table, row, key):
    result = load_and_read(tmp_path, table, [GOOD_ROWS[table], row])

    assert [(line, column) for line, column, _, _ in result["rejects"]] == [(3, key)]
    assert result["rejects"][0][2].startswith(f'EMPTY KEY: column "{key}" is empty')
    assert len(result["loaded"]) == 1


# Line numbers stay physical around other faults --------------------------------------------


def test_inexact_values_keep_physical_lines_after_a_quoted_break_a_blank_and_a_short_row(tmp_path):
    rows = [
        '1000,1,10,page_view,2024-03-01 10:00:00,s1,"two\nlines"',  # lines 2-3
        "",  # line 4: blank
        "1001,1,10,page_view,2024-03-01 10:00:00,s1",  # line 5: short
        event("12.6"),  # line 6
        '1002,1,10,page_view,epoch,s1,"also\ntwo"',  # lines 7-8: inexact and two lines
        event("1003"),  # line 9
    ]

    result = load_and_read(tmp_path, "events", rows, columns="id")

    assert result["loaded"] == [(1000,), (1003,)]
    assert [(line, column) for line, column, _, _ in result["rejects"]] == [
        (4, None),
        (5, "metadata"),
        (6, "id"),
        (7, "event_timestamp"),
        (8, "event_timestamp"),
    ]
    assert result["rejects"][3][3] == '1002,1,10,page_view,epoch,s1,"also'
    assert result["rejects"][4][2].startswith("part of the record starting on line 7: CAST")
    assert result["rejects"][4][3] == 'two"'
    assert result["summary"] == "raw_events.csv: 7 data lines = 2 loaded + 5 rejected"


def test_an_appended_day_file_rejects_inexact_values_on_its_own_lines(tmp_path):
    db = tmp_path / "values.duckdb"
    data_dir = write(tmp_path / "data")
    load(data_dir, db)
    day = data_dir / "raw_events_2024-03-02.csv"
    day.write_text(
        "\n".join([HEADERS["events"], event("2000"), event("2001.0"), event("0x7D2"), ""])
    )

    (audit,) = append([day], db, max_reject_share=1)

    with duckdb.connect(str(db), read_only=True) as con:
        ids = con.execute("SELECT id FROM raw.events ORDER BY id").fetchall()
        rejects = con.execute(
            "SELECT file_name, line_number, column_name FROM raw.load_rejects ORDER BY 2"
        ).fetchall()
    assert ids == [(1000,), (2000,)]
    assert rejects == [
        ("raw_events_2024-03-02.csv", 3, "id"),
        ("raw_events_2024-03-02.csv", 4, "id"),
    ]
    assert audit.summary() == "raw_events_2024-03-02.csv: 3 data lines = 1 loaded + 2 rejected"


# Parquet: no lines to reject, so a value a CSV would reject refuses the file -----------------

_PARQUET_EVENT = {
    "id": "1000::BIGINT",
    "user_id": "1::BIGINT",
    "course_id": "10::BIGINT",
    "event_type": "'page_view'",
    "event_timestamp": "TIMESTAMP '2024-03-01 10:00:00'",
    "session_id": "'s1'",
    "metadata": "NULL::VARCHAR",
}


def _events_parquet(tmp_path: Path, **columns: str) -> Path:
    data_dir = write(tmp_path / "data")
    (data_dir / "raw_events.csv").unlink()
    select = ", ".join(f'{sql} AS "{name}"' for name, sql in (_PARQUET_EVENT | columns).items())
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT {select} FROM range(3)) TO '{data_dir}/raw_events.parquet' "
            "(FORMAT parquet)"
        )
    return data_dir


@pytest.mark.parametrize(
    ("column", "sql", "message"),
    [
        ("id", "1000.4::DOUBLE", "id is DOUBLE, expected BIGINT"),
        ("user_id", "'1'", "user_id is VARCHAR, expected BIGINT"),
        ("course_id", "10::UBIGINT", "course_id is UBIGINT, expected BIGINT"),
        ("event_timestamp", "DATE '2024-03-01'", "event_timestamp is DATE, expected TIMESTAMP"),
    ],
)
def test_parquet_with_a_type_that_would_need_converting_is_refused(tmp_path, column, sql, message):
    data_dir = _events_parquet(tmp_path, **{column: sql})

    with pytest.raises(LoadError, match=rf"raw_events\.parquet has column types .*{message}"):
        load(data_dir, tmp_path / "values.duckdb")


@pytest.mark.parametrize(
    ("column", "sql", "message"),
    [
        (
            "id",
            "CASE WHEN range = 1 THEN NULL ELSE 1000 END",
            r"id is empty in 1 row\(s\), the first being row 2",
        ),
        (
            "event_timestamp",
            "TIMESTAMP '2024-03-01 10:00:00.25'",
            "event_timestamp is not a whole-second YYYY-MM-DD HH:MM:SS timestamp in 3 row",
        ),
        (
            "event_timestamp",
            "CASE WHEN range = 2 THEN 'infinity'::TIMESTAMP END",
            "event_timestamp is not a whole-second YYYY-MM-DD HH:MM:SS timestamp in 1 row",
        ),
    ],
)
def test_parquet_with_values_a_csv_would_reject_is_refused_naming_column_and_row(
    tmp_path, column, sql, message
):
    data_dir = _events_parquet(tmp_path, **{column: sql})

    with pytest.raises(LoadError, match=rf"raw_events\.parquet has values .*{message}"):
        load(data_dir, tmp_path / "values.duckdb")
    assert not (tmp_path / "values.duckdb").exists()
