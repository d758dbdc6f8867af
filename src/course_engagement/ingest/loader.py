"""Load the raw exports into the `raw` schema of DuckDB, safely.

Why it is built this way:

- The heavy lifting is one DuckDB `read_csv` per file with the contract's columns read as text
  (`auto_detect=false`), typed in the same query by `csv_values`: a value loads only if it
  prints back as its text, so nothing is sniffed, rounded (`12.6`) or converted (`0x3E9`,
  `epoch`, `2024-01-01T10:00:00`, `... +02:00`, `yes`); such a line is rejected, as is a line
  with an empty key (the table's own id). Timestamps are naive and mean UTC; they are stored as
  TIMESTAMP, so the process time zone never touches them.
- A bad row must not stop the load, but it must not vanish either. `store_rejects=true` puts it
  in `raw.load_rejects` (one row per rejected physical line; the header is line 1), and every
  file obeys `data_lines = loaded_rows + rejected_lines`, where `data_lines` is counted from the
  bytes of the file, independently of DuckDB. The count and the sha256 run in a thread while
  DuckDB parses, so they cost little wall time.
- A problem with the file itself (missing, a directory, empty, compressed, CR-only line endings,
  no line break in its first MiB, wrong header, not UTF-8, too many rejects)
  stops the load with a `LoadError` naming the file and what to do. All checks that need no
  database run before it is opened, and the load itself is one transaction, so a failed load
  leaves the database exactly as it was (a database file that did not exist is removed again).

Decisions worth knowing:

- `raw.load_audit` is a history: one row per file per load, appended. `loaded_at` (UTC) lives
  only there, so rerunning with the same files gives identical raw tables.
- `raw.load_rejects` holds the rejects of the rows currently loaded: loading `raw_users.csv`
  (or `.parquet`) replaces the rejects of both names, and a full load of events replaces the
  rejects of every events file (the table is rebuilt). Old rejects of a file that has since been
  fixed would otherwise look like current problems.
- Events also arrive a day at a time, as `raw_events_<YYYY-MM-DD>.csv` (same header; the date
  in the name is validated). `--append PATH...` adds such files to `raw.events` without
  reloading history: one transaction for all of them, each with its audit row, its rejects
  (line numbers within that file) and its conservation line. A file is known by its sha256:
  one that is already in `raw.events` (in the audit since the latest full load of events) is
  reported as already loaded and adds nothing, so a retried append is harmless; a different
  file under a name already loaded is refused, because appending it would count its rows
  twice. A full load reads `raw_events.csv` (or `.parquet`) and then every day file of the data
  directory in date order, so reloading the folder reproduces history plus every append: keep
  appended files in the data directory. A full load that would drop a day file raw.events
  holds, or count one content twice, is refused (ingest.event_files). Each events
  file is a load batch: its rows carry its number and `raw.load_batches` lists the batches in
  raw.events (ingest.load_batches); the dbt models downstream take the batches they
  have not processed.
- A data line is a CSV record after the header. The generator writes one record per physical line;
  a quoted value with a line break (legal CSV) makes its record span several physical lines and it
  counts once (an empty line inside it too). Blank lines carry no data but are not silently
  dropped either: each is a rejected line (`BLANK LINE`), as is a record longer than DuckDB's
  reader buffer, which `read_csv` skips without a reject (`LINE SIZE OVER MAXIMUM`). The byte-
  level facts come from `line_accounting`. When the fast accounting (each record is one physical
  line) does not add up, the loader maps every reject to its physical line from its byte offset
  (DuckDB's rejects) or from its position among the parsed records (inexact values: a second
  parse, in a scratch database that keeps insertion order, says which records they are); if the
  lines still cannot be accounted for (e.g. an unterminated quote that swallowed more than DuckDB
  keeps), the load fails rather than report numbers that do not add up.
- Raw events are not sorted by `event_timestamp`: an ORDER BY doubled the load time of 10M
  events (13.4 s against 6.9 s), far outside the speed budget. Row order in `raw` carries no
  meaning; compare tables with an ORDER BY.
- Parquet has no line-level rejects: its columns must be the contract's columns in order with
  compatible types (integers widen to BIGINT, timestamp units other than microseconds are cast;
  a time zone, a DOUBLE id, a text id are refused), no value a CSV line would be rejected for
  (empty key, fraction of a second, infinity) is allowed, and `data_lines` is the row count.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import csv
import dataclasses
import datetime as dt
import mmap
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from course_engagement.contract import EVENTS, TABLES, RawTable
from course_engagement.ingest import csv_values, event_files, line_accounting, load_batches
from course_engagement.ingest.line_accounting import HEADER_PROBE, ByteScan
from course_engagement.paths import folder_problem, literal_pattern
from course_engagement.settings import (
    DEFAULT_MAX_REJECT_SHARE,
    MAX_REJECT_SHARE_ENV,
    Settings,
    SettingsError,
    check_database_path,
    duckdb_config,
)
from course_engagement.validation import validate_date
from course_engagement.warehouse import is_lock_conflict, table_exists

RAW_SCHEMA = "raw"
REJECTS_TABLE = f"{RAW_SCHEMA}.load_rejects"
AUDIT_TABLE = f"{RAW_SCHEMA}.load_audit"

_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_EXAMPLES = 3  # rejected lines quoted in a reject-share error

# A day of events delivered on its own: raw_events_2026-10-31.csv.
DAY_FILE_PREFIX = f"{EVENTS.file_stem}_"
_DAY_FILE_NAME = re.compile(rf"{DAY_FILE_PREFIX}(?P<date>.*)\.csv")
_DAY_FILE_SQL_PATTERN = rf"{DAY_FILE_PREFIX}\d{{4}}-\d{{2}}-\d{{2}}\.csv"


MAX_MESSAGE = 2_000  # characters of a LoadError; a quoted DuckDB error keeps MAX_DUCKDB_ERROR
MAX_DUCKDB_ERROR = 500
MAX_QUOTED = csv_values.MAX_QUOTED  # characters of a value quoted in a message


class LoadError(Exception):
    """A problem with an input file (or the database) that stops the whole load.

    The message names the file and says what to do; the database is left as it was. It is cut
    to MAX_MESSAGE characters so a huge bad value cannot flood a log.
    """

    def __init__(self, message: str) -> None:
        super().__init__(shorten(message, MAX_MESSAGE))


def shorten(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    note = f"... [{len(text):,} characters in all]"
    return text[: limit - len(note)] + note


@dataclass(frozen=True)
class FileAudit:
    """What one load did with one file; one row of `raw.load_audit`."""

    table: str
    file_name: str
    sha256: str
    data_lines: int
    loaded_rows: int
    rejected_lines: int
    loaded_at: datetime
    load_batch_id: int | None = None  # events files only (course_engagement.ingest.load_batches)

    @property
    def reject_share(self) -> float:
        return self.rejected_lines / self.data_lines if self.data_lines else 0.0

    def summary(self) -> str:
        """The conservation line printed per file."""
        return (
            f"{self.file_name}: {self.data_lines} data lines = "
            f"{self.loaded_rows} loaded + {self.rejected_lines} rejected"
        )


@dataclass(frozen=True)
class AlreadyLoaded:
    """An appended file whose exact bytes are already in `raw.events`: nothing was added."""

    file_name: str
    sha256: str
    loaded_as: str  # the name it was loaded under (the same file, or a copy of it)
    loaded_at: datetime | None  # None: an earlier argument of the same append

    def summary(self) -> str:
        if self.loaded_at is None:
            when = f"same content as {self.loaded_as} in this append"
        else:
            copy = "" if self.loaded_as == self.file_name else f" as {self.loaded_as}"
            when = f"loaded{copy} at {self.loaded_at:%Y-%m-%d %H:%M:%S} UTC"
        return (
            f"{self.file_name}: already loaded (sha256 {self.sha256[:12]}, {when}); nothing added"
        )


@dataclass(frozen=True)
class _Source:
    table: RawTable
    path: Path
    is_day_file: bool = False  # appended to raw.<table> instead of replacing it
    load_batch_id: int | None = None  # events files: the number every row of the file carries

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix == ".parquet"

    @property
    def sibling_names(self) -> tuple[str, str]:
        return f"{self.table.file_stem}.csv", f"{self.table.file_stem}.parquet"


@dataclass(frozen=True)
class _RejectRow:
    line_number: int
    column_name: str | None
    error: str
    raw_line: str


# ---------------------------------------------------------------------------------------------
# Structural checks: no database needed, run for every file before the database is opened.


def find_sources(data_dir: Path) -> list[_Source]:
    """One input file per contract table: `raw_<table>.csv` or `raw_<table>.parquet`."""
    if not data_dir.is_dir():
        raise LoadError(
            f"data directory {data_dir} does not exist; point --data-dir or "
            "COURSE_ENGAGEMENT_DATA_DIR at the folder holding the raw_*.csv files"
        )
    sources = []
    for table in TABLES:
        csv_path = data_dir / f"{table.file_stem}.csv"
        parquet_path = data_dir / f"{table.file_stem}.parquet"
        if csv_path.exists() and parquet_path.exists():
            raise LoadError(
                f"both {csv_path} and {parquet_path} exist for table {RAW_SCHEMA}.{table.name}; "
                "keep exactly one so it is clear which one is loaded"
            )
        if not csv_path.exists() and not parquet_path.exists():
            raise LoadError(
                f"{csv_path} is missing (no {parquet_path.name} either) for table "
                f"{RAW_SCHEMA}.{table.name}; generate the data (`course-engagement generate`) or "
                "point --data-dir / COURSE_ENGAGEMENT_DATA_DIR at the folder that holds it"
            )
        sources.append(_Source(table, csv_path if csv_path.exists() else parquet_path))
    return sources + find_day_files(data_dir)


def day_file_date(path: Path) -> dt.date:
    """The date in a day file's name, `raw_events_<YYYY-MM-DD>.csv`; LoadError otherwise."""
    match = _DAY_FILE_NAME.fullmatch(path.name)
    if not match:
        raise LoadError(
            f"{path}: a day of events must be a CSV named {DAY_FILE_PREFIX}YYYY-MM-DD.csv "
            f"(got {path.name!r}); rename it, or move it out of the data directory"
        )
    try:
        return validate_date(match["date"])
    except ValueError as exc:
        raise LoadError(f"{path}: {exc}; name day files {DAY_FILE_PREFIX}YYYY-MM-DD.csv") from None


def find_day_files(data_dir: Path) -> list[_Source]:
    """Every `raw_events_<date>.csv` in the data directory, in date order.

    A directory by that name is kept too, so the header check names it instead of skipping it.
    """
    paths = list(data_dir.glob(f"{DAY_FILE_PREFIX}*"))
    dated = sorted((day_file_date(path), path) for path in paths)
    return [_Source(EVENTS, path, is_day_file=True) for _, path in dated]


def check_csv_header(source: _Source) -> None:
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


def check_parquet_schema(source: _Source, con: duckdb.DuckDBPyConnection) -> None:
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


def _check_parquet_values(source: _Source, con: duckdb.DuckDBPyConnection) -> None:
    """Refuse values a CSV would reject: an empty key, a timestamp with a fraction of a second
    or an infinite timestamp or date. Parquet has no lines to reject, so the file is refused."""
    checks = [(source.table.key, f"{_quote(source.table.key)} IS NULL", "is empty")]
    for name, kind in source.table.columns:
        column = _quote(name)
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


# ---------------------------------------------------------------------------------------------
# Loading.


def load(
    data_dir: Path,
    db_path: Path,
    *,
    max_reject_share: float | None = None,
    drop_missing_day_files: bool = False,
) -> list[FileAudit | event_files.DroppedFile]:
    """Load the four raw files, then every events day file, into `raw.*` in one transaction.

    `max_reject_share` defaults to COURSE_ENGAGEMENT_MAX_REJECT_SHARE or 5%. Raises LoadError on
    any structural problem, on two events files with the same content, and on an events file
    in raw.events that the folder lacks unless `drop_missing_day_files` (then reported as a
    `DroppedFile`); the database is then unchanged.
    """
    share_limit = _share_limit(max_reject_share)
    sources = find_sources(data_dir)
    for source in sources:
        if not source.is_parquet:
            check_csv_header(source)
    if any(source.is_parquet for source in sources):
        with duckdb.connect() as scratch:
            for source in sources:
                if source.is_parquet:
                    check_parquet_schema(source, scratch)

    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    db_existed = db_path.exists()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256") as pool:
        scan = line_accounting.scan_bytes
        scans = {source.path: pool.submit(scan, source.path) for source in sources}
        try:
            events = [source.path for source in sources if source.table == EVENTS]
            if problem := event_files.duplicate_content(events, _sha256_of(scans)):
                raise LoadError(problem)
            return _load_in_transaction(
                db_path, sources, scans, share_limit, loaded_at, drop_missing_day_files
            )
        except BaseException:
            for future in scans.values():
                future.cancel()
            if not db_existed:
                _remove_database(db_path)
            raise


def _sha256_of(scans: dict[Path, Future[ByteScan]]) -> Callable[[Path], str]:
    return lambda path: scans[path].result().sha256


def _share_limit(max_reject_share: float | None) -> float:
    if max_reject_share is None:
        return Settings.from_env().max_reject_share
    share_limit = max_reject_share
    if not 0 <= share_limit <= 1:
        raise LoadError(f"max reject share must be between 0 and 1, got {share_limit}")
    return share_limit


def _connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    problem = folder_problem(db_path.parent)
    if problem:
        raise LoadError(f"cannot create database {db_path}: {problem}")
    try:
        return duckdb.connect(str(db_path), config=duckdb_config(Settings.from_env()))
    except duckdb.Error as exc:
        if not is_lock_conflict(exc):
            raise LoadError(f"cannot open database {db_path}: {exc}") from None
        raise LoadError(
            f"cannot open database {db_path}: {exc}. If another process (dbt, Airflow, a "
            "notebook) holds it open, close that first"
        ) from None


def _commit(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Commit, or a LoadError naming the file when it cannot be written (a full disk)."""
    try:
        con.commit()
    except duckdb.Error as exc:
        raise LoadError(
            f"cannot write database {db_path}: {exc}. Nothing was loaded; free disk space "
            "(or raise the file size limit) and load again"
        ) from None


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed commit has already ended it)."""
    with contextlib.suppress(duckdb.TransactionException):
        con.rollback()


def _remove_empty_wal(db_path: Path) -> None:
    wal = db_path.with_name(db_path.name + ".wal")
    if wal.is_file() and wal.stat().st_size == 0:
        wal.unlink()


@contextlib.contextmanager
def _transaction(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction on `db_path` with the bookkeeping tables: committed when the block
    ends, rolled back on any exception; an empty `.wal` it leaves is removed either way."""
    try:
        with _connect(db_path) as con:
            con.begin()
            try:
                _create_bookkeeping_tables(con)
                yield con
                _commit(con, db_path)
            except BaseException:
                _rollback(con)
                raise
    finally:
        _remove_empty_wal(db_path)


def _load_in_transaction(
    db_path: Path,
    sources: list[_Source],
    scans: dict[Path, Future[ByteScan]],
    share_limit: float,
    loaded_at: datetime,
    drop_missing_day_files: bool,
) -> list[FileAudit | event_files.DroppedFile]:
    with _transaction(db_path) as con:
        dropped = _missing_event_files(con, sources, scans, drop_missing_day_files)
        audits = _load_sources(con, sources, scans, share_limit, loaded_at)
    return [*audits, *dropped]


def _missing_event_files(
    con: duckdb.DuckDBPyConnection,
    sources: list[_Source],
    scans: dict[Path, Future[ByteScan]],
    drop: bool,
) -> list[event_files.DroppedFile]:
    """The day files in raw.events that the folder lacks: refused, or dropped if `drop`.

    The history file (`raw_events.csv` or `.parquet`) is always replaced by the folder's own.
    """
    events = [source.path for source in sources if source.table == EVENTS]
    days = [f for f in event_files.loaded_files(con) if _DAY_FILE_NAME.fullmatch(f.file_name)]
    missing = event_files.missing_from_folder(days, events, _sha256_of(scans))
    if missing and not drop:
        raise LoadError(event_files.refusal(missing, events[0].parent))
    return [event_files.DroppedFile(file) for file in missing]


def _load_sources(
    con: duckdb.DuckDBPyConnection,
    sources: list[_Source],
    scans: dict[Path, Future[ByteScan]],
    share_limit: float,
    loaded_at: datetime,
) -> list[FileAudit]:
    """Load each source, stop at the first above the reject share, then write the audit rows."""
    replacing = any(source.table == EVENTS and not source.is_day_file for source in sources)
    sources = _number_event_batches(con, sources, scans, replacing=replacing)
    audits = []
    for source in sources:
        audit = _load_one(con, source, scans[source.path], loaded_at)
        if audit.reject_share > share_limit:
            raise LoadError(_share_message(con, source, audit, share_limit))
        audits.append(audit)
    if not audits:
        return audits
    con.executemany(
        f"INSERT INTO {AUDIT_TABLE} (file_name, sha256, data_lines, loaded_rows, rejected_lines, "
        "loaded_at, load_batch_id, source_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                a.file_name,
                a.sha256,
                a.data_lines,
                a.loaded_rows,
                a.rejected_lines,
                a.loaded_at,
                a.load_batch_id,
                str(source.path.resolve()),
            ]
            for source, a in zip(sources, audits, strict=True)
        ],
    )
    load_batches.record(
        con,
        [
            (a.load_batch_id, a.file_name, a.sha256, a.loaded_rows)
            for a in audits
            if a.load_batch_id is not None
        ],
        replacing=replacing,
    )
    return audits


def _number_event_batches(
    con: duckdb.DuckDBPyConnection,
    sources: list[_Source],
    scans: dict[Path, Future[ByteScan]],
    *,
    replacing: bool,
) -> list[_Source]:
    """The sources, each events file with its load batch id (ingest.load_batches)."""
    events = [source for source in sources if source.table == EVENTS]
    ids = iter(
        load_batches.number(
            con,
            [source.path.name for source in events],
            lambda position: scans[events[position].path].result().sha256,
            replacing=replacing,
        )
    )
    return [
        dataclasses.replace(source, load_batch_id=next(ids)) if source.table == EVENTS else source
        for source in sources
    ]


def append(
    paths: Sequence[Path], db_path: Path, *, max_reject_share: float | None = None
) -> list[FileAudit | AlreadyLoaded]:
    """Add day files (`raw_events_<date>.csv`) to `raw.events` of an already loaded database.

    One transaction for all files, in date order. A file whose sha256 is already in
    `raw.events` comes back as `AlreadyLoaded` and adds nothing. Raises LoadError (the database
    unchanged) on a bad name or header, a name already loaded with other content, a database
    without loaded events, or a reject share above the limit.
    """
    share_limit = _share_limit(max_reject_share)
    sources = _day_sources(paths)
    if not db_path.exists():
        raise LoadError(
            f"database {db_path} does not exist; load the history first "
            f"(course-engagement load --db {db_path}), then append day files to it"
        )
    scans = {source.path: line_accounting.scan_bytes(source.path) for source in sources}

    with _transaction(db_path) as con:
        outcomes, to_load = _plan_append(con, db_path, sources, scans)
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        futures = {path: _done(scan) for path, scan in scans.items()}
        audits = _load_sources(con, to_load, futures, share_limit, loaded_at)
    by_name = {audit.file_name: audit for audit in audits} | outcomes
    return [by_name[source.path.name] for source in sources]


def _day_sources(paths: Sequence[Path]) -> list[_Source]:
    """Check names, existence and headers before the database is opened; date order."""
    if not paths:
        raise LoadError("nothing to append: name one or more raw_events_YYYY-MM-DD.csv files")
    dated = []
    for path in paths:
        day = day_file_date(path)
        if not path.is_file():
            raise LoadError(f"{path} does not exist (or is not a file); check the path")
        dated.append((day, path))
    names = [path.name for _, path in dated]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise LoadError(f"{', '.join(repeated)} named more than once; append each day file once")
    sources = [_Source(EVENTS, path, is_day_file=True) for _, path in sorted(dated)]
    for source in sources:
        check_csv_header(source)
    return sources


def _plan_append(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    sources: list[_Source],
    scans: dict[Path, ByteScan],
) -> tuple[dict[str, AlreadyLoaded], list[_Source]]:
    """Split the files into those already in raw.events and those to load; refuse conflicts."""
    if not table_exists(con, f"{RAW_SCHEMA}.{EVENTS.name}"):
        raise LoadError(
            f"{db_path} has no {RAW_SCHEMA}.{EVENTS.name} table to append to; load the history "
            f"first (course-engagement load --db {db_path})"
        )
    columns = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [RAW_SCHEMA, EVENTS.name],
    ).fetchall()
    if (load_batches.BATCH_COLUMN,) not in columns:
        raise LoadError(
            f"{db_path} was loaded before raw.events carried load batches; reload it once "
            f"(course-engagement load --db {db_path}), then append day files to it"
        )
    current = event_files.loaded_files(con)
    by_sha = {file.sha256: (file.file_name, file.loaded_at) for file in current}
    by_name = {file.file_name: (file.sha256, file.loaded_at) for file in current}
    outcomes: dict[str, AlreadyLoaded] = {}
    to_load: list[_Source] = []
    in_this_append: dict[str, str] = {}
    for source in sources:
        name, sha = source.path.name, scans[source.path].sha256
        if sha in by_sha:
            outcomes[name] = AlreadyLoaded(name, sha, *by_sha[sha])
        elif sha in in_this_append:
            outcomes[name] = AlreadyLoaded(name, sha, in_this_append[sha], None)
        elif name in by_name:
            other_sha, at = by_name[name]
            raise LoadError(
                f"{source.path}: a different {name} (sha256 {other_sha[:12]}) was loaded at "
                f"{at:%Y-%m-%d %H:%M:%S} UTC; appending this one would add that day's rows a "
                "second time. To replace the day, put the corrected file in the data directory "
                "and reload it all (course-engagement load); dbt's incremental models pick the "
                "change up on their next build"
            )
        else:
            in_this_append[sha] = name
            to_load.append(source)
    return outcomes, to_load


def _done(scan: ByteScan) -> Future[ByteScan]:
    future: Future[ByteScan] = Future()
    future.set_result(scan)
    return future


def _create_bookkeeping_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {REJECTS_TABLE} (
            file_name VARCHAR NOT NULL,
            line_number BIGINT NOT NULL,
            column_name VARCHAR,
            error VARCHAR NOT NULL,
            raw_line VARCHAR
        )"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (
            file_name VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            data_lines BIGINT NOT NULL,
            loaded_rows BIGINT NOT NULL,
            rejected_lines BIGINT NOT NULL,
            loaded_at TIMESTAMP NOT NULL,
            load_batch_id BIGINT,
            source_path VARCHAR
        )"""
    )
    # a database loaded before load batches, or source paths, were recorded
    con.execute(f"ALTER TABLE {AUDIT_TABLE} ADD COLUMN IF NOT EXISTS load_batch_id BIGINT")
    con.execute(f"ALTER TABLE {AUDIT_TABLE} ADD COLUMN IF NOT EXISTS source_path VARCHAR")
    load_batches.create_table(con)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _create_table(
    con: duckdb.DuckDBPyConnection, table: RawTable, target: str, *, temporary: bool = False
) -> str:
    columns = ", ".join(f"{_quote(name)} {kind}" for name, kind in table.columns)
    if table == EVENTS:
        columns += f", {load_batches.BATCH_COLUMN} BIGINT NOT NULL"
    kind = "TEMP TABLE" if temporary else "TABLE"
    con.execute(f"CREATE OR REPLACE {kind} {target} ({columns})")
    return target


def _load_one(
    con: duckdb.DuckDBPyConnection, source: _Source, scan: Future[ByteScan], loaded_at: datetime
) -> FileAudit:
    """Load one file. A day file is parsed into a staging table first, so its accounting sees
    its own rows only, then appended to the raw table."""
    raw_table = f"{RAW_SCHEMA}.{source.table.name}"
    if not source.is_day_file:
        _create_table(con, source.table, raw_table)
        con.execute(
            f"DELETE FROM {REJECTS_TABLE} WHERE file_name IN (?, ?)", list(source.sibling_names)
        )
        if source.table == EVENTS:  # the day files' rows went with the table
            con.execute(
                f"DELETE FROM {REJECTS_TABLE} WHERE regexp_full_match(file_name, ?)",
                [_DAY_FILE_SQL_PATTERN],
            )
        return _load_into(con, source, raw_table, scan, loaded_at)

    con.execute(f"DELETE FROM {REJECTS_TABLE} WHERE file_name = ?", [source.path.name])
    stage = _create_table(con, source.table, _temp_name("stage", source), temporary=True)
    audit = _load_into(con, source, stage, scan, loaded_at)
    con.execute(f"INSERT INTO {raw_table} SELECT * FROM {stage}")
    con.execute(f"DROP TABLE {stage}")
    return audit


def _temp_name(kind: str, source: _Source) -> str:
    """A temp table name unique to the file, so several files load in one transaction."""
    return f"_{kind}_" + re.sub(r"[^A-Za-z0-9]", "_", source.path.stem)


def _load_into(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    target: str,
    scan: Future[ByteScan],
    loaded_at: datetime,
) -> FileAudit:
    if source.is_parquet:
        loaded, data_lines, rejected = _load_parquet(con, source, target)
        return _audit(source, scan.result(), data_lines, loaded, rejected, loaded_at)

    rejects_table = _temp_name("rejects", source)
    read = _read_csv_sql(
        source.table,
        f"store_rejects = true, rejects_table = '{rejects_table}', "
        f"rejects_scan = '{_temp_name('reject_scans', source)}'",
    )
    try:
        loaded = con.execute(
            f"INSERT INTO {target} "
            f"{csv_values.checked_select(source.table, read, _batch_column(source))}",
            [literal_pattern(source.path)],
        ).fetchone()[0]
    except duckdb.Error as exc:
        raise LoadError(_parse_error(source.path, exc)) from None

    byte_scan = scan.result()
    records = con.execute(f"SELECT count(DISTINCT line) FROM {rejects_table}").fetchone()[0]
    if loaded + records == byte_scan.physical_lines:
        # Every record is exactly one physical line and every value was exact, so DuckDB's
        # line numbers are physical ones.
        if records:
            con.execute(
                f"INSERT INTO {REJECTS_TABLE} SELECT ?, line, column_name, error, "
                f"left(raw_line, {line_accounting.RAW_LINE_KEPT}) "
                f"FROM ({_grouped_rejects_sql(rejects_table)})",
                [source.path.name],
            )
        return _audit(source, byte_scan, byte_scan.physical_lines, loaded, records, loaded_at)

    values = _value_problems(source, loaded)
    data_lines, rows = _reconcile_lines(
        con, source, target, rejects_table, loaded, byte_scan, values
    )
    _insert_reject_rows(con, source.path.name, rows)
    return _audit(source, byte_scan, data_lines, loaded, len(rows), loaded_at)


def _parse_error(path: Path, exc: duckdb.Error) -> str:
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


def _batch_column(source: _Source) -> str:
    """The select-list tail that stamps an events file's rows with its load batch id."""
    if source.load_batch_id is None:
        return ""
    return f", {int(source.load_batch_id)} AS {load_batches.BATCH_COLUMN}"


def _read_csv_sql(table: RawTable, reject_options: str) -> str:
    """`read_csv` of a contract file with every column as text (csv_values types them)."""
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in table.column_names) + "}"
    return f"""read_csv(
        ?, columns = {columns}, header = true, auto_detect = false,
        delim = ',', quote = '"', escape = '"', strict_mode = true, {reject_options}
    )"""


@dataclass(frozen=True)
class _ValueProblems:
    """The records DuckDB parsed whose values are not exact, by their position among all the
    records it parsed (0-based, file order), and the line breaks inside values per record."""

    rejected: list[tuple[int, int, str, str]]  # (position, line breaks, columns, error)
    breaks: list[tuple[int, int]]  # (position, line breaks) of every record that has any
    parsed: int  # records the parser kept (loaded or rejected for a value)


def _value_problems(source: _Source, loaded: int) -> _ValueProblems:
    """Parse the file again, only when its lines do not add up, to find which records the
    value checks filtered out and where they sit.

    This runs in a scratch in-memory database that keeps insertion order, outside the load's
    transaction (whose row ids are not positions), so a row id is the record's position.
    """
    read = _read_csv_sql(source.table, "store_rejects = true")  # as the load, skips alike
    config = duckdb_config(Settings.from_env()) | {"preserve_insertion_order": True}
    with duckdb.connect(config=config) as scratch:
        try:
            scratch.execute(
                f"CREATE TABLE record_values AS {csv_values.problems_select(source.table, read)}",
                [literal_pattern(source.path)],
            )
        except duckdb.Error as exc:
            raise LoadError(_parse_error(source.path, exc)) from None
        parsed, rejected, first, last = scratch.execute(
            "SELECT count(*), count(error), min(rowid), max(rowid) FROM record_values"
        ).fetchone()
        if parsed - rejected != loaded or (parsed and (first, last) != (0, parsed - 1)):
            raise LoadError(
                f"{source.path}: {loaded} rows loaded, but a second parse finds "
                f"{parsed - rejected} records with exact values; did the file change while it "
                "was loaded? Load it again"
            )
        return _ValueProblems(
            rejected=scratch.execute(
                "SELECT rowid, breaks, column_name, error FROM record_values "
                "WHERE error IS NOT NULL ORDER BY rowid"
            ).fetchall(),
            breaks=scratch.execute(
                "SELECT rowid, breaks FROM record_values WHERE breaks > 0 ORDER BY rowid"
            ).fetchall(),
            parsed=parsed,
        )


def _grouped_rejects_sql(rejects_table: str) -> str:
    """One row per rejected record: all its column errors, the first missing column only."""
    return f"""
        WITH errors AS (
            SELECT line, line_byte_position, column_idx, column_name,
                   error_type::VARCHAR AS error_type, error_message, csv_line
            FROM {rejects_table}
            QUALIFY error_type <> 'MISSING COLUMNS'
                OR row_number() OVER (PARTITION BY line, error_type ORDER BY column_idx) = 1
        )
        SELECT line,
               min(line_byte_position) AS line_byte_position,
               string_agg(DISTINCT column_name, ', ') AS column_name,
               string_agg(error_type || ': ' || error_message, '; '
                          ORDER BY column_idx NULLS LAST) AS error,
               trim(any_value(csv_line), chr(13) || chr(10)) AS raw_line
        FROM errors
        GROUP BY line
        ORDER BY line
    """


def _reconcile_lines(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    target: str,
    rejects_table: str,
    loaded: int,
    byte_scan: ByteScan,
    values: _ValueProblems,
) -> tuple[int, list[_RejectRow]]:
    """The slow path: a value was not exact, some record spans several physical lines, or a
    line is blank.

    Returns (data_lines, one reject row per rejected physical line) or raises when the lines do
    not add up.
    """
    varchar_columns = [_quote(n) for n, kind in source.table.columns if kind == "VARCHAR"]
    breaks_in_values = 0
    if varchar_columns:
        total = " + ".join(
            f"coalesce(sum(length({c}) - length(replace({c}, chr(10), ''))), 0)"
            for c in varchar_columns
        )
        breaks_in_values = con.execute(f"SELECT {total} FROM {target}").fetchone()[0]
    records = con.execute(
        f"SELECT line_byte_position, column_name, error, raw_line "
        f"FROM ({_grouped_rejects_sql(rejects_table)}) ORDER BY line_byte_position"
    ).fetchall()

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
            _RejectRow(n, None, "BLANK LINE: an empty line carries no data", "") for n in blanks
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


def _long_line_rows(mm: mmap.mmap, rejected: set[int]) -> list[_RejectRow]:
    """A reject row for each over-long line DuckDB skipped without a reject (longer than its
    buffer); the stored raw line is cut to line_accounting.RAW_LINE_KEPT characters."""
    return [
        _RejectRow(
            line,
            None,
            f"LINE SIZE OVER MAXIMUM: the line is longer than the CSV reader's buffer; only its "
            f"first {line_accounting.RAW_LINE_KEPT:,} characters are kept here",
            text,
        )
        for line, text in line_accounting.long_lines(mm)
        if line not in rejected
    ]


def _check_distinct_lines(source: _Source, rows: list[_RejectRow]) -> None:
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


def _record_rows(start: int, column: str | None, error: str, parts: list[str]) -> list[_RejectRow]:
    """One reject row per physical line of a rejected record that starts on line `start`."""
    return [
        _RejectRow(start, column, error, parts[0]),
        *(
            _RejectRow(
                start + k, column, f"part of the record starting on line {start}: {error}", p
            )
            for k, p in enumerate(parts[1:], start=1)
        ),
    ]


def _value_reject_rows(mm: mmap.mmap, values: _ValueProblems, taken: list[int]) -> list[_RejectRow]:
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


def _insert_reject_rows(
    con: duckdb.DuckDBPyConnection, file_name: str, rows: list[_RejectRow]
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


def _load_parquet(
    con: duckdb.DuckDBPyConnection, source: _Source, target: str
) -> tuple[int, int, int]:
    path = literal_pattern(source.path)
    select = ", ".join(f"{_quote(n)}::{t}" for n, t in source.table.columns)
    select += _batch_column(source)
    try:
        data_lines = con.execute(
            "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [path]
        ).fetchone()[0]
        loaded = con.execute(
            f"INSERT INTO {target} SELECT {select} FROM read_parquet(?)", [path]
        ).fetchone()[0]
    except duckdb.Error as exc:
        raise LoadError(f"{source.path} could not be loaded as parquet: {exc}") from None
    return loaded, int(data_lines), 0


def _audit(
    source: _Source,
    scan: ByteScan,
    data_lines: int,
    loaded: int,
    rejected: int,
    loaded_at: datetime,
) -> FileAudit:
    if loaded + rejected != data_lines:  # parquet metadata disagreeing with its rows
        raise LoadError(
            f"{source.path}: {data_lines} data lines but {loaded} loaded + {rejected} rejected; "
            "the file is inconsistent, re-export it"
        )
    return FileAudit(
        table=source.table.name,
        file_name=source.path.name,
        sha256=scan.sha256,
        data_lines=data_lines,
        loaded_rows=loaded,
        rejected_lines=rejected,
        loaded_at=loaded_at,
        load_batch_id=source.load_batch_id,
    )


def _share_message(
    con: duckdb.DuckDBPyConnection, source: _Source, audit: FileAudit, share_limit: float
) -> str:
    examples = con.execute(
        f"SELECT line_number, column_name, error FROM {REJECTS_TABLE} "
        f"WHERE file_name = ? ORDER BY line_number LIMIT {_MAX_EXAMPLES}",
        [audit.file_name],
    ).fetchall()
    shown = "; ".join(
        f"line {line}" + (f" ({column})" if column else "") + f": {error}"
        for line, column, error in examples
    )
    encoding = con.execute(
        f"SELECT count(*) FROM {REJECTS_TABLE} WHERE file_name = ? AND error LIKE 'INVALID%'",
        [audit.file_name],
    ).fetchone()[0]
    hint = (
        " Most rejects are invalid UTF-8: the file is probably not UTF-8; re-export it as UTF-8."
        if encoding * 2 > audit.rejected_lines
        else ""
    )
    return (
        f"{source.path}: {audit.rejected_lines} of {audit.data_lines} data lines rejected "
        f"(share {audit.reject_share:.2%}), above the maximum reject share of {share_limit:.2%}. "
        f"First rejects: {shown}.{hint} To inspect them all, load into a scratch database with "
        "--max-reject-share 1 and query raw.load_rejects"
    )


def _remove_database(db_path: Path) -> None:
    if not db_path.parent.is_dir():  # never created: its folder could not be
        return
    for leftover in (db_path, db_path.with_name(db_path.name + ".wal")):
        leftover.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Command line: `scripts/init_db.py` and `course-engagement load`.


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a share between 0 and 1")
    return share


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Load raw_<table>.csv|parquet, then every raw_events_<YYYY-MM-DD>.csv, into the raw "
            "schema of a DuckDB database (replacing it); or, with --append, add day files to "
            "raw.events without reloading history."
        ),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=settings.data_dir,
        help="folder with the raw files (default: %(default)s, env COURSE_ENGAGEMENT_DATA_DIR)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=settings.db_path,
        help="DuckDB file to load into (default: %(default)s, env COURSE_ENGAGEMENT_DB)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--append",
        nargs="+",
        type=Path,
        metavar="PATH",
        help=(
            "add these raw_events_YYYY-MM-DD.csv files to raw.events, keeping history; a file "
            "already loaded (same sha256) adds nothing. Keep them in the data directory so a "
            "full reload includes them"
        ),
    )
    mode.add_argument(
        event_files.DROP_MISSING_FLAG,
        action="store_true",
        help=(
            "full load only: drop from raw.events the events files the data directory no longer "
            "holds (without it, such a load is refused, naming them)"
        ),
    )
    parser.add_argument(
        "--max-reject-share",
        type=_share,
        default=None,
        help=(
            "fail when a file rejects more than this share of its data lines "
            f"(default: {DEFAULT_MAX_REJECT_SHARE}, env {MAX_REJECT_SHARE_ENV})"
        ),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser(Settings.from_env()).parse_args(argv)
        check_database_path(args.db.expanduser(), "--db")
        if args.append:
            outcomes = append(args.append, args.db, max_reject_share=args.max_reject_share)
        else:
            outcomes = load(
                args.data_dir,
                args.db,
                max_reject_share=args.max_reject_share,
                drop_missing_day_files=args.drop_missing_day_files,
            )
    except (LoadError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        print(outcome.summary())
    for path in args.append or []:
        if path.resolve().parent != args.data_dir.resolve():
            print(
                f"warning: {path} is not in the data directory {args.data_dir}; a full load "
                "(course-engagement load) refuses to run until it is there. Keep it: "
                f"cp {path} {args.data_dir}/",
                file=sys.stderr,
            )
    return 0
