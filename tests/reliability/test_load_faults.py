"""Bad files at the door: the real loader on real DuckDB files (cases 5, 6, 7 and 8).

The good set is the fixture of reliability_data.py. A structural problem stops the whole load
before the database is opened, so "the previous database is untouched" is checked on the file's
bytes; a row-level problem rejects the line with its number and loads the rest.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import corrupt
import pytest
import reliability_data as data
from dbt_harness import write_raw_csvs
from reliability_harness import query

from course_engagement.contract import TABLES
from course_engagement.ingest.loader import LoadError, load

HEADERS = {table.name: table.header for table in TABLES}


def _text(table: str, rows: list[str] | None = None) -> str:
    return "\n".join([HEADERS[table], *(data.ROWS[table] if rows is None else rows)]) + "\n"


def _files(folder: Path, **overrides: str | bytes | None) -> Path:
    """The fixture's four files, some replaced (text or bytes) or removed (None)."""
    write_raw_csvs(folder, data.ROWS)
    for table, content in overrides.items():
        path = folder / f"raw_{table}.csv"
        if content is None:
            path.unlink()
        else:
            corrupt.write(path, content)
    return folder


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("loaded")
    db = root / "warehouse.duckdb"
    load(_files(root / "data"), db)
    return db


@pytest.fixture
def previous_db(loaded_db: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of a loaded database and the sha256 of its bytes."""
    db = Path(shutil.copyfile(loaded_db, tmp_path / "warehouse.duckdb"))
    return db, hashlib.sha256(db.read_bytes()).hexdigest()


def _unchanged(previous: tuple[Path, str]) -> bool:
    db, digest = previous
    return hashlib.sha256(db.read_bytes()).hexdigest() == digest


# Case 5: structural faults in rows -----------------------------------------------------------


def _events_with_row_faults() -> bytes:
    text = _text("events")
    text = corrupt.short_row(text, 3)
    text = corrupt.long_row(text, 4)
    text = corrupt.bad_cast(text, 5, "course_id", "two-o-one")
    text = corrupt.bad_quoting(text, 6, "session_id")
    return corrupt.invalid_utf8(text, 7, "metadata")


def test_faulty_rows_are_rejected_with_their_line_numbers(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    audits = load(
        _files(tmp_path / "data", events=_events_with_row_faults()), db, max_reject_share=1
    )

    rejects = query(
        db,
        "select line_number, column_name, split_part(error, ':', 1) from raw.load_rejects "
        "where file_name = 'raw_events.csv' order by line_number",
    )
    assert rejects == [
        (3, "metadata", "MISSING COLUMNS"),
        (4, None, "TOO MANY COLUMNS"),
        (5, "course_id", "CAST"),
        (6, "session_id", "UNQUOTED VALUE"),
        (7, "metadata", "INVALID ENCODING"),
    ]
    events = next(audit for audit in audits if audit.file_name == "raw_events.csv")
    assert events.summary() == "raw_events.csv: 21 data lines = 16 loaded + 5 rejected"


def test_more_rejects_than_the_share_fails_the_load_naming_file_and_share(
    tmp_path: Path, previous_db
) -> None:
    with pytest.raises(LoadError) as failure:
        load(_files(tmp_path / "data", events=_events_with_row_faults()), previous_db[0])
    message = str(failure.value)
    assert "raw_events.csv: 5 of 21 data lines rejected (share 23.81%)" in message
    assert "above the maximum reject share of 5.00%" in message
    assert "line 3 (metadata): MISSING COLUMNS" in message
    assert _unchanged(previous_db)


# Case 6: schema drift ------------------------------------------------------------------------

DRIFTS = {
    "added": lambda text, columns: corrupt.extra_column(text, "source_system", "crm"),
    "removed": lambda text, columns: corrupt.missing_column(text, columns[1]),
    "renamed": lambda text, columns: corrupt.rename_column(text, columns[1], columns[1] + "_v2"),
    "reordered": lambda text, columns: corrupt.reorder_columns(text, columns[0], columns[1]),
}
EXPECTED = {
    "added": "unexpected column(s) source_system",
    "removed": "missing column(s) {1}",
    "renamed": "column 2 is '{1}_v2', expected '{1}'",
    "reordered": "columns are reordered: '{0}' expected at position 1",
}


@pytest.mark.parametrize("drift", DRIFTS)
@pytest.mark.parametrize("table", [table.name for table in TABLES])
def test_schema_drift_fails_naming_file_and_column_and_leaves_the_database(
    table: str, drift: str, tmp_path: Path, previous_db
) -> None:
    columns = next(t.column_names for t in TABLES if t.name == table)
    broken = DRIFTS[drift](_text(table), columns)

    with pytest.raises(LoadError) as failure:
        load(_files(tmp_path / "data", **{table: broken}), previous_db[0])

    message = str(failure.value)
    assert f"raw_{table}.csv header does not match the contract" in message
    assert EXPECTED[drift].format(*columns) in message
    assert _unchanged(previous_db)


# Case 7: empty, header-only and missing files --------------------------------------------------


@pytest.mark.parametrize("table", [table.name for table in TABLES])
def test_an_empty_file_fails_naming_it(table: str, tmp_path: Path, previous_db) -> None:
    with pytest.raises(LoadError, match=rf"raw_{table}\.csv is empty \(0 bytes\)"):
        load(_files(tmp_path / "data", **{table: ""}), previous_db[0])
    assert _unchanged(previous_db)


@pytest.mark.parametrize("table", [table.name for table in TABLES])
def test_a_missing_file_fails_naming_it(table: str, tmp_path: Path, previous_db) -> None:
    with pytest.raises(LoadError, match=rf"raw_{table}\.csv is missing"):
        load(_files(tmp_path / "data", **{table: None}), previous_db[0])
    assert _unchanged(previous_db)


@pytest.mark.parametrize("table", [table.name for table in TABLES])
def test_a_header_only_file_loads_an_empty_table_and_says_so(table: str, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    audits = load(_files(tmp_path / "data", **{table: _text(table, [])}), db)
    summary = {audit.table: audit.summary() for audit in audits}[table]
    assert summary == f"raw_{table}.csv: 0 data lines = 0 loaded + 0 rejected"
    assert query(db, f"select count(*) from raw.{table}") == [(0,)]
    # What the report does with it is the quality gate's business (case 10): no courses is an
    # empty mart, no users or enrolments no learners, no events no activity - each fails the
    # comparison with the previous report.


# Case 8: timestamps in another format or with an offset ----------------------------------------

TIMESTAMPS = [  # line 2.. of the events file; only the first is in the contract's format
    "2026-03-05 10:00:00",
    "2026-03-05 10:00:00+02:00",
    "2026-03-05 10:00:00Z",
    "2026-03-05T10:00:00",
    "05/03/2026 10:00:00",
    "2026-03-05",
    "1772704800",
]


def test_timestamps_in_another_format_or_with_an_offset_are_rejected_never_shifted(
    tmp_path: Path,
) -> None:
    events = [
        f"{n},1,201,page_view,{value},s{n},page" for n, value in enumerate(TIMESTAMPS, start=1)
    ]
    db = tmp_path / "warehouse.duckdb"
    load(_files(tmp_path / "data", events=_text("events", events)), db, max_reject_share=1)

    rejects = query(
        db,
        "select line_number, column_name, error from raw.load_rejects order by line_number",
    )
    assert [(line, column) for line, column, _ in rejects] == [
        (line, "event_timestamp") for line in range(3, 9)
    ]
    cast_error = 'CAST: Error when converting column "event_timestamp". Could not convert string'
    for (line, _, error), value in zip(rejects, TIMESTAMPS[1:], strict=True):
        assert error.startswith(f'{cast_error} "{value}"'), line
    loaded = query(db, "select id, strftime(event_timestamp, '%c') from raw.events")
    assert loaded == [(1, "2026-03-05 10:00:00")]  # exactly as written, no shift
