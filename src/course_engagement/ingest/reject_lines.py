"""The slow path of the line accounting: every rejected record placed on its physical lines.

Taken only when loaded rows plus rejected records do not equal the file's physical lines: a
value that is not exact (filtered by `csv_values`, so DuckDB has no line number for it), a
record spanning several lines, a blank or over-long line. If the lines still do not add up
(an unterminated quote that swallowed more than DuckDB keeps) the load fails.
"""

from __future__ import annotations

import bisect
import mmap
from dataclasses import dataclass

import duckdb
import numpy as np

from course_engagement.ingest import csv_values, line_accounting
from course_engagement.ingest.file_checks import parse_error
from course_engagement.ingest.line_accounting import ByteScan
from course_engagement.ingest.load_error import LoadError
from course_engagement.ingest.sources import REJECTS_TABLE, Source
from course_engagement.paths import literal_pattern
from course_engagement.settings import Settings, duckdb_config
from course_engagement.sql_files import quote_identifier, sql_file


@dataclass(frozen=True)
class RejectRow:
    line_number: int
    column_name: str | None
    error: str
    raw_line: str


@dataclass(frozen=True)
class ValueProblems:
    """The records DuckDB parsed whose values are not exact, by their position among all the
    records it parsed (0-based, file order), and the line breaks inside values per record."""

    rejected: list[tuple[int, int, str, str]]  # (position, line breaks, columns, error)
    breaks: list[tuple[int, int]]  # (position, line breaks) of every record that has any
    parsed: int  # records the parser kept (loaded or rejected for a value)


def value_problems(source: Source, loaded: int) -> ValueProblems:
    """Parse the file again, only when its lines do not add up, to find which records the
    value checks filtered out and where they sit.

    This runs in a scratch in-memory database that keeps insertion order, outside the load's
    transaction (whose row ids are not positions), so a row id is the record's position.
    """
    # the same reader options as the load, so it skips alike
    read = csv_values.read_text_sql(source.table, "store_rejects = true")
    config = duckdb_config(Settings.from_env()) | {"preserve_insertion_order": True}
    with duckdb.connect(config=config) as scratch:
        try:
            scratch.execute(
                f"CREATE TABLE record_values AS {csv_values.problems_select(source.table, read)}",
                {"path": literal_pattern(source.path)},
            )
        except duckdb.Error as exc:
            raise LoadError(parse_error(source.path, exc)) from None
        parsed, rejected, first, last = scratch.execute(
            "SELECT count(*), count(error), min(rowid), max(rowid) FROM record_values"
        ).fetchone()
        if parsed - rejected != loaded or (parsed and (first, last) != (0, parsed - 1)):
            raise LoadError(
                f"{source.path}: {loaded} rows loaded, but a second parse finds "
                f"{parsed - rejected} records with exact values; did the file change while it "
                "was loaded? Load it again"
            )
        return ValueProblems(
            rejected=scratch.execute(
                "SELECT rowid, breaks, column_name, error FROM record_values "
                "WHERE error IS NOT NULL ORDER BY rowid"
            ).fetchall(),
            breaks=scratch.execute(
                "SELECT rowid, breaks FROM record_values WHERE breaks > 0 ORDER BY rowid"
            ).fetchall(),
            parsed=parsed,
        )


def account_for_lines(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    target: str,
    rejects_table: str,
    loaded: int,
    byte_scan: ByteScan,
    values: ValueProblems,
) -> tuple[int, list[RejectRow]]:
    """The slow path: a value was not exact, some record spans several physical lines, or a
    line is blank.

    Returns (data_lines, one reject row per rejected physical line) or raises when the lines do
    not add up.
    """
    breaks_in_values = _line_breaks_in_values(con, source, target)
    records = con.execute(
        "SELECT line_byte_position, column_name, error, raw_line FROM "
        f"({sql_file(__file__, 'grouped_rejects.sql', rejects=rejects_table)}) "
        "ORDER BY line_byte_position"
    ).fetchall()
    starts, rows = _rows_on_their_lines(source, records, values)

    accounted = loaded + breaks_in_values + len(rows)
    if accounted != byte_scan.physical_lines:
        first = f" near line {starts[0]}" if starts else ""
        raise LoadError(
            f"{source.path}: {byte_scan.physical_lines} physical data lines, but only "
            f"{accounted} are accounted for ({loaded} loaded rows, {breaks_in_values} line "
            f"breaks inside quoted values, {len(rows)} rejected lines). A quote that is never "
            f"closed{first} probably swallowed the rest; fix the quoting and reload"
        )
    return byte_scan.physical_lines - breaks_in_values, rows


def _line_breaks_in_values(con: duckdb.DuckDBPyConnection, source: Source, target: str) -> int:
    """Line breaks inside the text values loaded into `target`: each is one more physical line."""
    varchar_columns = [quote_identifier(n) for n, kind in source.table.columns if kind == "VARCHAR"]
    if not varchar_columns:
        return 0
    total = " + ".join(
        f"coalesce(sum(length({c}) - length(replace({c}, chr(10), ''))), 0)"
        for c in varchar_columns
    )
    return con.execute(f"SELECT {total} FROM {target}").fetchone()[0]


def _rows_on_their_lines(
    source: Source, records: list[tuple], values: ValueProblems
) -> tuple[list[int], list[RejectRow]]:
    """The first line of each grouped DuckDB reject, and one reject row per rejected physical
    line (DuckDB's rejects, over-long and blank lines, inexact values), in line order."""
    with (
        source.path.open("rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm,
    ):
        starts = line_accounting.line_numbers(mm, [r[0] for r in records])
        rows = []
        for start, (_, column, error, raw_line) in zip(starts, records, strict=True):
            parts = (raw_line or "").replace("\r\n", "\n").split("\n")
            rows.extend(_record_rows(start, column, error, parts))
        rows.extend(_long_line_rows(mm, {r.line_number for r in rows}))
        blanks = line_accounting.blank_lines(
            line_accounting.empty_lines(mm),
            sorted(r.line_number for r in rows),
            values.breaks,
            values.parsed,
        )
        rows.extend(
            RejectRow(n, None, "BLANK LINE: an empty line carries no data", "") for n in blanks
        )
        try:
            rows.extend(_value_reject_rows(mm, values, sorted(r.line_number for r in rows)))
        except ValueError as exc:  # a record placed past the end: the counts disagree
            raise LoadError(
                f"{source.path}: {exc}; the rejected records cannot be placed on their lines. "
                "Did the file change while it was loaded? Load it again"
            ) from None
    rows.sort(key=lambda r: r.line_number)
    _check_distinct_lines(source, rows)
    return starts, rows


def _long_line_rows(mm: mmap.mmap, rejected: set[int]) -> list[RejectRow]:
    """A reject row for each over-long line DuckDB skipped without a reject (longer than its
    buffer); the stored raw line is cut to line_accounting.RAW_LINE_KEPT characters."""
    return [
        RejectRow(
            line,
            None,
            f"LINE SIZE OVER MAXIMUM: the line is longer than the CSV reader's buffer; only its "
            f"first {line_accounting.RAW_LINE_KEPT:,} characters are kept here",
            text,
        )
        for line, text in line_accounting.long_lines(mm)
        if line not in rejected
    ]


def _check_distinct_lines(source: Source, rows: list[RejectRow]) -> None:
    """Two rejects on one physical line mean two faults were mistaken for each other: the
    totals could still add up with the wrong lines, so nothing is published."""
    lines = [r.line_number for r in rows]
    twice = sorted({line for line in lines if lines.count(line) > 1})
    if twice:
        raise LoadError(
            f"{source.path}: line(s) {', '.join(map(str, twice[:10]))} are each accounted as "
            "more than one rejected record, so the rejected lines cannot be identified; fix "
            "those lines (quoting, blank or over-long lines) and reload"
        )


def _record_rows(start: int, column: str | None, error: str, parts: list[str]) -> list[RejectRow]:
    """One reject row per physical line of a rejected record that starts on line `start`."""
    return [
        RejectRow(start, column, error, parts[0]),
        *(
            RejectRow(start + k, column, f"part of the record starting on line {start}: {error}", p)
            for k, p in enumerate(parts[1:], start=1)
        ),
    ]


def _value_reject_rows(mm: mmap.mmap, values: ValueProblems, taken: list[int]) -> list[RejectRow]:
    """Reject rows of the records with a value that is not exact, on their physical lines.

    The records DuckDB parsed fill, in order, the physical lines that no structural reject or
    blank line `taken` (sorted); a record fills one line plus one per line break in its values.
    """
    if not values.rejected:
        return []
    break_positions = [position for position, _ in values.breaks]
    breaks_before = np.concatenate([[0], np.cumsum([b for _, b in values.breaks])])
    starts, skipped = [], 0
    for position, _, _, _ in values.rejected:  # ascending position, so ascending lines
        free = position + int(breaks_before[bisect.bisect_left(break_positions, position)])
        line = 2 + free + skipped
        while skipped < len(taken) and taken[skipped] <= line:
            skipped += 1
            line += 1
        starts.append(line)
    wanted = sorted(
        {
            s + k
            for s, (_, b, _, _) in zip(starts, values.rejected, strict=True)
            for k in range(b + 1)
        }
    )
    texts = dict(zip(wanted, line_accounting.physical_lines(mm, wanted), strict=True))
    rows = []
    for start, (_, breaks, column, error) in zip(starts, values.rejected, strict=True):
        rows.extend(
            _record_rows(start, column, error, [texts[start + k] for k in range(breaks + 1)])
        )
    return rows


def insert_reject_rows(
    con: duckdb.DuckDBPyConnection, file_name: str, rows: list[RejectRow]
) -> None:
    if rows:  # list parameters, zipped by unnest: no per-row round trips, no pandas import
        con.execute(
            f"""INSERT INTO {REJECTS_TABLE} SELECT ?, unnest(?::BIGINT[]), unnest(?::VARCHAR[]),
                unnest(?::VARCHAR[]), unnest(?::VARCHAR[])""",
            [
                file_name,
                [r.line_number for r in rows],
                [r.column_name for r in rows],
                [r.error for r in rows],
                [r.raw_line[: line_accounting.RAW_LINE_KEPT] for r in rows],
            ],
        )
