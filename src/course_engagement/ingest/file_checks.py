"""Checks of a file itself, made before the database is opened: a CSV's shape and header, a
parquet file's columns, types and values. Each failure is a LoadError naming the file and what
to do; `parse_error` explains a CSV DuckDB could not parse at all."""

from __future__ import annotations

import csv
import mmap
from pathlib import Path

import duckdb

from course_engagement.ingest import csv_values, line_accounting
from course_engagement.ingest.line_accounting import HEADER_PROBE
from course_engagement.ingest.load_error import LoadError, shorten
from course_engagement.ingest.sources import Source
from course_engagement.paths import literal_pattern
from course_engagement.sql_files import quote_identifier

_UTF8_BOM = b"\xef\xbb\xbf"
MAX_DUCKDB_ERROR = 500  # characters of a DuckDB error quoted in a LoadError
MAX_QUOTED = csv_values.MAX_QUOTED  # characters of a value quoted in a message


def check_csv_header(source: Source) -> None:
    """Fail on an empty file, an undecodable header or a header that is not the contract's."""
    path, table = source.path, source.table
    if path.is_dir():
        raise LoadError(
            f"{path} is a directory, not a CSV file; remove or rename it and put the "
            f"{path.name} export in its place"
        )
    if path.stat().st_size == 0:
        raise LoadError(
            f"{path} is empty (0 bytes); expected at least the header line "
            f"{table.header!r}. Re-export the file"
        )
    with path.open("rb") as handle:
        head = handle.read(HEADER_PROBE + 1)
    _check_file_shape(path, head)
    first = head.split(b"\n", 1)[0].removeprefix(_UTF8_BOM)
    try:
        text = first.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{path} is not UTF-8: its header (line 1) has the invalid byte "
            f"0x{first[exc.start]:02x} at byte {exc.start}. Re-export the file as UTF-8 "
            "(e.g. `iconv -f latin1 -t utf-8`)"
        ) from None
    try:
        found = next(csv.reader([text]), [])
    except csv.Error:  # a field above the csv module's limit: certainly not a column name
        found = text.split(",")
    problem = describe_header_mismatch(table.column_names, found)
    if problem:
        raise LoadError(
            f"{path} header does not match the contract: {shorten(problem, MAX_QUOTED)}. "
            f"Expected header: {table.header!r}; found: {shorten(text, MAX_QUOTED)!r}. "
            "Fix the export, or change "
            "contract.py and the dbt sources together"
        )


def _check_file_shape(path: Path, head: bytes) -> None:
    """Refuse a compressed file, one without a line break early on, and CR-only line endings."""
    compressed = line_accounting.compression(head)
    if compressed:
        raise LoadError(
            f"{path} is a {compressed} file, not a CSV; decompress it and load the CSV inside "
            f"under the name {path.name}"
        )
    if b"\n" not in head[:HEADER_PROBE] and len(head) > HEADER_PROBE:
        raise LoadError(
            f"{path} has no line break in its first {HEADER_PROBE:,} bytes, so it has no CSV "
            "header; it is not a CSV export (or its lines are not separated): re-export it"
        )
    first = head[:HEADER_PROBE].split(b"\n", 1)[0].rstrip(b"\r")
    if b"\r" in first:
        raise LoadError(
            f"{path} has CR-only line endings (old Mac style): its header line ends with a bare "
            "CR. Convert the line endings to LF or CRLF (e.g. `tr '\\r' '\\n'`) and reload"
        )


def describe_header_mismatch(expected: list[str], found: list[str]) -> str | None:
    """Say which columns are missing, extra, renamed or reordered; None when they match."""
    if found == expected:
        return None
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    duplicated = sorted({c for c in found if found.count(c) > 1})
    problems = []
    if missing and len(missing) == len(extra) and len(found) == len(expected):
        renames = [
            f"column {i + 1} is {f!r}, expected {e!r}"
            for i, (e, f) in enumerate(zip(expected, found, strict=True))
            if e in missing and f in extra
        ]
        if len(renames) == len(missing):
            problems.append("renamed column(s): " + "; ".join(renames))
            missing, extra = [], []
    if missing:
        problems.append("missing column(s) " + ", ".join(missing))
    if extra:
        problems.append("unexpected column(s) " + ", ".join(extra))
    if duplicated:
        problems.append("duplicated column(s) " + ", ".join(duplicated))
    if not problems:
        moved = [
            f"{e!r} expected at position {i + 1}" for i, e in enumerate(expected) if found[i] != e
        ]
        problems.append("columns are reordered: " + "; ".join(moved))
    return "; ".join(problems)


def check_parquet_schema(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    """Columns in contract order, with types that convert without guessing."""
    path, table = source.path, source.table
    if path.stat().st_size == 0:
        raise LoadError(f"{path} is empty (0 bytes); re-export the file")
    try:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?)", [literal_pattern(path)]
        ).fetchall()
    except duckdb.Error as exc:
        raise LoadError(f"{path} cannot be read as parquet ({exc}); re-export the file") from None
    found = [row[0] for row in described]
    problem = describe_header_mismatch(table.column_names, found)
    if problem:
        raise LoadError(
            f"{path} columns do not match the contract: {problem}. Expected columns: "
            f"{table.header!r}; found: {','.join(found)!r}"
        )
    wrong = [
        f"{name} is {actual}, expected {wanted}"
        for (name, wanted), (_, actual, *_rest) in zip(table.columns, described, strict=True)
        if not _parquet_type_ok(actual, wanted)
    ]
    if wrong:
        raise LoadError(
            f"{path} has column types the contract does not allow: {'; '.join(wrong)}. "
            "Timestamps must be naive UTC (no time zone); re-export the file"
        )
    _check_parquet_values(source, con)


def _check_parquet_values(source: Source, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse values a CSV would reject: an empty key, a timestamp with a fraction of a second
    or an infinite timestamp or date. Parquet has no lines to reject, so the file is refused."""
    checks = [(source.table.key, f"{quote_identifier(source.table.key)} IS NULL", "is empty")]
    for name, kind in source.table.columns:
        column = quote_identifier(name)
        if kind == "TIMESTAMP":
            bad = f"NOT isfinite({column}) OR date_trunc('second', {column}) <> {column}"
            checks.append((name, bad, "is not a whole-second YYYY-MM-DD HH:MM:SS timestamp"))
        elif kind == "DATE":
            checks.append((name, f"NOT isfinite({column})", "is not a YYYY-MM-DD date"))
    counts = ", ".join(
        f"count(*) FILTER ({bad}), min(file_row_number) FILTER ({bad})" for _, bad, _ in checks
    )
    found = con.execute(
        f"SELECT {counts} FROM read_parquet(?, file_row_number = true)",
        [literal_pattern(source.path)],
    ).fetchone()
    wrong = [
        f"{name} {what} in {found[2 * i]} row(s), the first being row {found[2 * i + 1] + 1}"
        for i, (name, _, what) in enumerate(checks)
        if found[2 * i]
    ]
    if wrong:
        raise LoadError(
            f"{source.path} has values the contract does not allow: {'; '.join(wrong)}. Parquet "
            "has no lines to reject one by one, so the file is refused; fix these rows and "
            "re-export it"
        )


def _parquet_type_ok(actual: str, wanted: str) -> bool:
    if actual == wanted:
        return True
    if wanted == "BIGINT":
        return actual in {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"}
    if wanted == "TIMESTAMP":
        return actual in {"TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
    return False


def parse_error(path: Path, exc: duckdb.Error) -> str:
    """Why DuckDB refused the whole file, naming the line of a stray CR (its usual cause)."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        stray = line_accounting.stray_carriage_return(mm)
    if stray:
        line, column = stray
        return (
            f"{path}: line {line}, column {column} holds a carriage return (CR) inside an "
            "unquoted value, which no CSV reader can place; remove it or quote the value, "
            "then reload"
        )
    return (
        f"{path} could not be parsed as CSV: {shorten(str(exc), MAX_DUCKDB_ERROR)}. "
        "Fix the file (check its quoting and line endings) and reload"
    )
