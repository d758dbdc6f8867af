"""File-level faults the loader must see: over-long records, blank lines and CSV-like lines
inside quoted values, CR line endings, files that are not CSV at all, and huge messages.

Each test writes real files and runs the real loader on a real DuckDB file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from pathlib import Path

import duckdb
import pytest

from course_engagement.contract import TABLES
from course_engagement.ingest import line_accounting
from course_engagement.ingest.load_error import MAX_MESSAGE
from course_engagement.ingest.loader import LoadError, load
from course_engagement.orchestration import tasks
from course_engagement.settings import Settings

GOOD_ROWS = {
    "users": "1,Ada Lovelace,ada@example.org,2024-01-05,active,false,2024-02-01 09:30:00,",
    "courses": "10,SQL Basics,Data,Beginner,Academy North,2023-12-01",
    "enrolments": "100,1,10,2024-02-05 08:00:00,active",
    "events": "1000,1,10,video_start,2024-03-01 10:00:00,s1,video:1",
}
GOOD = {table.name: f"{table.header}\n{GOOD_ROWS[table.name]}\n" for table in TABLES}
HEADER = GOOD["events"].split("\n", 1)[0]


def write_data(data_dir: Path, **overrides: str | bytes | None) -> Path:
    """The good files (one row each), with some replaced (text or bytes) or removed (None)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for table, content in (GOOD | overrides).items():
        if content is not None:
            path = data_dir / f"raw_{table}.csv"
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return data_dir


def event(event_id: int, metadata: str = "m") -> str:
    return f"{event_id},1,10,page_view,2024-03-01 10:00:00,s1,{metadata}"


def events_file(*lines: str, newline: str = "\n") -> bytes:
    return (newline.join([HEADER, *lines]) + newline).encode()


def load_events(tmp_path, events: bytes) -> dict:
    """Load the good set with these events; the events' audit, rows and rejects."""
    db = tmp_path / "files.duckdb"
    load(write_data(tmp_path / "data", events=events), db, max_reject_share=1)
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            "audit": con.execute(
                "SELECT data_lines, loaded_rows, rejected_lines FROM raw.load_audit "
                "WHERE file_name = 'raw_events.csv'"
            ).fetchone(),
            "rows": con.execute("SELECT id, metadata FROM raw.events ORDER BY id").fetchall(),
            "rejects": con.execute(
                "SELECT line_number, column_name, error, raw_line FROM raw.load_rejects "
                "WHERE file_name = 'raw_events.csv' ORDER BY line_number"
            ).fetchall(),
        }


# Case 1: a record longer than DuckDB's reader buffer --------------------------------------

BUFFER_OVERFLOW = 40 << 20  # above read_csv's ~32 MiB buffer: DuckDB skips it without a reject


def test_a_record_longer_than_the_reader_buffer_is_rejected_on_its_line(tmp_path):
    huge = event(2, "x" * BUFFER_OVERFLOW)

    result = load_events(tmp_path, events_file(event(1), huge, event(3)))

    assert result["audit"] == (3, 2, 1)
    assert result["rows"] == [(1, "m"), (3, "m")]
    ((line, column, error, raw_line),) = result["rejects"]
    assert (line, column) == (3, None)
    assert error.startswith("LINE SIZE OVER MAXIMUM: the line is longer than the CSV reader's")
    assert raw_line == huge[: line_accounting.RAW_LINE_KEPT]


def test_a_record_above_max_line_size_is_rejected_with_a_bounded_raw_line(tmp_path):
    big = event(2, "y" * (3 << 20))  # above max_line_size (2,000,000 bytes), below the buffer
    assert len(big) == 3_145_768

    result = load_events(tmp_path, events_file(event(1), big, event(3)))

    assert result["audit"] == (3, 2, 1)
    assert result["rejects"] == [
        (
            3,
            None,
            "LINE SIZE OVER MAXIMUM: Maximum line size of 2000000 bytes exceeded. "
            "Actual Size:3145768 bytes.",
            big[: line_accounting.RAW_LINE_KEPT],
        )
    ]


# Case 2: an empty line inside a quoted value --------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_an_empty_line_inside_a_quoted_value_loads_exactly(tmp_path, newline):
    value = f"first{newline}{newline}third"
    events = events_file(event(1, f'"{value}"'), event(2), "", event(3), newline=newline)

    result = load_events(tmp_path, events)

    # lines: 2-4 event 1, 5 event 2, 6 a real blank line, 7 event 3
    assert result["audit"] == (4, 3, 1)
    assert result["rows"] == [(1, value), (2, "m"), (3, "m")]
    assert [r[:3] for r in result["rejects"]] == [
        (6, None, "BLANK LINE: an empty line carries no data")
    ]


def test_an_empty_quoted_line_and_an_over_long_record_do_not_cancel_out(tmp_path):
    # Before, the quoted empty line counted as a blank reject and the skipped huge record not
    # at all: the totals added up with the wrong line rejected.
    huge = event(3, "z" * BUFFER_OVERFLOW)
    events = events_file(event(1, '"a\n\nb"'), event(2), huge, event(4))

    result = load_events(tmp_path, events)

    assert result["audit"] == (4, 3, 1)
    assert result["rows"] == [(1, "a\n\nb"), (2, "m"), (4, "m")]
    assert [r[:2] for r in result["rejects"]] == [(6, None)]
    assert result["rejects"][0][2].startswith("LINE SIZE OVER MAXIMUM")


def test_a_quote_inside_an_unquoted_value_does_not_make_a_later_blank_line_look_quoted(tmp_path):
    # `ab"c` loads as it is; counting quote bytes would call line 4 quoted and line 7 blank.
    events = events_file(event(1, 'ab"c'), event(2), "", event(3, '"x\n\ny"'))

    result = load_events(tmp_path, events)

    assert result["audit"] == (4, 3, 1)
    assert result["rows"] == [(1, 'ab"c'), (2, "m"), (3, "x\n\ny")]
    assert [r[:2] for r in result["rejects"]] == [(4, None)]


def test_blank_lines_are_the_empty_lines_where_a_record_would_start():
    # Lines 2-3 record 0 (one break), 4 empty (blank), 5 taken by a reject, 6-8 record 1 (two
    # breaks; 7 is empty inside it), 9-1000 records 2..993, 1001 empty after the last record.
    blank = line_accounting.blank_lines(
        empty=[4, 7, 1001], taken=[5], breaks=[(0, 1), (1, 2)], parsed=994
    )

    assert blank == [4, 1001]


# Case 3: CSV-like lines inside a long quoted value -----------------------------------------


def test_csv_like_lines_inside_a_long_quoted_value_are_never_separate_rows(tmp_path):
    inner = "\n".join(event(i) for i in range(10, 14))
    value = "p" * 100_000 + "\n" + inner
    events = events_file(event(1), event(2, f'"{value}"'), event(3))

    result = load_events(tmp_path, events)

    assert result["audit"] == (3, 3, 0)
    assert result["rows"] == [(1, "m"), (2, value), (3, "m")]
    assert result["rejects"] == []


# Case 4: files that are not CSV the loader can read ---------------------------------------


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("raw_events.csv", data)
    return buffer.getvalue()


def _zstd(data: bytes) -> bytes:
    return b"\x28\xb5\x2f\xfd" + data  # the magic number is all the check reads


COMPRESSORS = {
    "gzip": gzip.compress,
    "zip": _zip,
    "zstd": _zstd,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
}


@pytest.mark.parametrize("kind", COMPRESSORS)
def test_a_compressed_file_named_csv_fails_naming_the_format(tmp_path, kind):
    data = write_data(tmp_path / "data", events=COMPRESSORS[kind](GOOD["events"].encode()))

    with pytest.raises(LoadError) as failure:
        load(data, tmp_path / "x.duckdb")

    assert str(failure.value) == (
        f"{data / 'raw_events.csv'} is a {kind} file, not a CSV; decompress it and load the "
        "CSV inside under the name raw_events.csv"
    )
    assert not (tmp_path / "x.duckdb").exists()


def test_cr_only_line_endings_fail_naming_the_file(tmp_path):
    data = write_data(tmp_path / "data", events=events_file(event(1), event(2), newline="\r"))

    with pytest.raises(LoadError, match=r"raw_events\.csv has CR-only line endings"):
        load(data, tmp_path / "x.duckdb")


def test_a_file_without_a_line_break_in_its_first_mib_fails_naming_it(tmp_path):
    blob = b"a" * (line_accounting.HEADER_PROBE + 10)
    data = write_data(tmp_path / "data", users=blob)

    with pytest.raises(LoadError) as failure:
        load(data, tmp_path / "x.duckdb")

    assert str(failure.value) == (
        f"{data / 'raw_users.csv'} has no line break in its first 1,048,576 bytes, so it has no "
        "CSV header; it is not a CSV export (or its lines are not separated): re-export it"
    )


def test_an_input_path_that_is_a_directory_fails_naming_it(tmp_path):
    data = write_data(tmp_path / "data", courses=None)
    (data / "raw_courses.csv").mkdir()

    with pytest.raises(LoadError, match=r"raw_courses\.csv is a directory, not a CSV file"):
        load(data, tmp_path / "x.duckdb")


def test_a_directory_named_like_a_day_file_fails_naming_it(tmp_path):
    data = write_data(tmp_path / "data")
    (data / "raw_events_2024-03-02.csv").mkdir()

    with pytest.raises(LoadError, match=r"raw_events_2024-03-02\.csv is a directory, not a CSV"):
        load(data, tmp_path / "x.duckdb")


def test_file_level_load_errors_are_permanent_failures_for_the_dag(tmp_path, monkeypatch):
    data = write_data(tmp_path / "data", events=gzip.compress(GOOD["events"].encode()))
    monkeypatch.setenv("COURSE_ENGAGEMENT_DATA_DIR", str(data))
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "x.duckdb"))

    with pytest.raises(LoadError) as failure:
        tasks.load_raw(Settings.from_env())

    assert isinstance(failure.value, tasks.PERMANENT_FAILURES)


# Case 5: carriage returns inside values ----------------------------------------------------


def test_a_stray_cr_in_an_unquoted_value_fails_naming_line_and_column(tmp_path):
    data = write_data(tmp_path / "data", events=events_file(event(1), event(2, "a\rb")))

    with pytest.raises(LoadError) as failure:
        load(data, tmp_path / "x.duckdb")

    assert str(failure.value) == (
        f"{data / 'raw_events.csv'}: line 3, column 7 holds a carriage return (CR) inside an "
        "unquoted value, which no CSV reader can place; remove it or quote the value, then reload"
    )


def test_a_cr_inside_a_quoted_value_loads_exactly(tmp_path):
    result = load_events(tmp_path, events_file(event(1, '"a\rb"'), event(2)))

    assert result["audit"] == (2, 2, 0)
    assert result["rows"] == [(1, "a\rb"), (2, "m")]


# Case 6: bounded messages ---------------------------------------------------------------


def test_a_huge_bad_value_is_quoted_in_at_most_200_characters(tmp_path):
    huge_id = "9" * 1_500_000

    bad = f"{huge_id},1,10,v,2024-03-01 10:00:00,s1,m"

    result = load_events(tmp_path, events_file(event(1), bad))

    ((line, column, error, raw_line),) = result["rejects"]
    assert (line, column) == (3, "id")
    assert error == (
        'CAST: Error when converting column "id". Could not convert string "'
        + "9" * 200
        + "... (1500000 characters)\" to 'BIGINT' without changing it; expected a plain "
        "integer: digits, an optional leading minus, no leading zeros"
    )
    assert len(raw_line) == line_accounting.RAW_LINE_KEPT


def test_a_huge_header_is_quoted_in_at_most_200_characters(tmp_path):
    data = write_data(tmp_path / "data", courses="x" * 1_000_000 + "\n")

    with pytest.raises(LoadError) as failure:
        load(data, tmp_path / "x.duckdb")

    missing = "course_id, title, category_name, level, publisher, course_created_at"
    problem = f"missing column(s) {missing}; unexpected column(s) "
    assert str(failure.value) == (
        f"{data / 'raw_courses.csv'} header does not match the contract: "
        f"{problem}{'x' * (200 - 33 - len(problem))}... [1,000,109 characters in all]. "
        "Expected header: 'course_id,title,category_name,level,publisher,course_created_at'; "
        f"found: '{'x' * 167}... [1,000,000 characters in all]'. Fix the export, or change "
        "contract.py and the dbt sources together"
    )


def test_a_load_error_is_cut_to_2000_characters_saying_how_much_was_left_out():
    message = str(LoadError("raw_events.csv: " + "y" * 1_500_000))

    assert len(message) == MAX_MESSAGE
    assert message == "raw_events.csv: " + "y" * 1951 + "... [1,500,016 characters in all]"
