"""Load the raw exports into DuckDB's `raw` schema: every file checked before the database
opens, all of them loaded in one transaction, every data line loaded or rejected with its line
number, one audit row per file. `append` adds events day files without reloading history.
Why it is built this way: docs/decisions/loader.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from course_engagement.contract import EVENTS
from course_engagement.ingest import event_files, line_accounting, load_batches
from course_engagement.ingest.file_checks import check_csv_header, check_parquet_schema
from course_engagement.ingest.file_load import FileAudit, load_one
from course_engagement.ingest.line_accounting import ByteScan
from course_engagement.ingest.load_error import LoadError
from course_engagement.ingest.raw_zone import RawZoneError, zone_writer
from course_engagement.ingest.sources import (
    AUDIT_TABLE,
    DAY_FILE_NAME,
    RAW_SCHEMA,
    REJECTS_TABLE,
    Source,
    day_file_date,
    find_sources,
)
from course_engagement.ingest.transaction import remove_database, transaction
from course_engagement.settings import Settings
from course_engagement.warehouse import table_exists

_MAX_EXAMPLES = 3  # rejected lines quoted in a reject-share error


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


def load(
    data_dir: Path,
    db_path: Path,
    *,
    max_reject_share: float | None = None,
    drop_missing_day_files: bool = False,
    raw_zone: Path | None = None,
) -> list[FileAudit | event_files.DroppedFile]:
    """Load the four raw files, then every events day file, into `raw.*` in one transaction.

    `max_reject_share` defaults to COURSE_ENGAGEMENT_MAX_REJECT_SHARE or 5%; `raw_zone` to
    COURSE_ENGAGEMENT_RAW_ZONE (unset: no zone), written after the commit (ingest.raw_zone).
    Raises LoadError on any structural problem, on two events files with the same content, and
    on an events file in raw.events that the folder lacks unless `drop_missing_day_files` (then
    reported as a `DroppedFile`); the database is then unchanged. A failure to write the zone
    raises RawZoneError; the load is then committed and the zone as before.
    """
    share_limit = _share_limit(max_reject_share)
    after_commit = zone_writer(_zone_root(raw_zone))
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
                db_path,
                sources,
                scans,
                share_limit,
                loaded_at,
                drop_missing_day_files,
                after_commit,
            )
        except BaseException as exc:
            for future in scans.values():
                future.cancel()
            if not db_existed and not isinstance(exc, RawZoneError):  # a zone error: committed
                remove_database(db_path)
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


def _load_in_transaction(
    db_path: Path,
    sources: list[Source],
    scans: dict[Path, Future[ByteScan]],
    share_limit: float,
    loaded_at: datetime,
    drop_missing_day_files: bool,
    after_commit: Callable[[duckdb.DuckDBPyConnection], object] | None,
) -> list[FileAudit | event_files.DroppedFile]:
    with transaction(db_path, after_commit) as con:
        dropped = _missing_event_files(con, sources, scans, drop_missing_day_files)
        audits = _load_sources(con, sources, scans, share_limit, loaded_at)
    return [*audits, *dropped]


def _zone_root(raw_zone: Path | None) -> Path | None:
    return raw_zone if raw_zone is not None else Settings.from_env().raw_zone


def _missing_event_files(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    scans: dict[Path, Future[ByteScan]],
    drop: bool,
) -> list[event_files.DroppedFile]:
    """The day files in raw.events that the folder lacks: refused, or dropped if `drop`.

    The history file (`raw_events.csv` or `.parquet`) is always replaced by the folder's own.
    """
    events = [source.path for source in sources if source.table == EVENTS]
    days = [f for f in event_files.loaded_files(con) if DAY_FILE_NAME.fullmatch(f.file_name)]
    missing = event_files.missing_from_folder(days, events, _sha256_of(scans))
    if missing and not drop:
        raise LoadError(event_files.refusal(missing, events[0].parent))
    return [event_files.DroppedFile(file) for file in missing]


def _load_sources(
    con: duckdb.DuckDBPyConnection,
    sources: list[Source],
    scans: dict[Path, Future[ByteScan]],
    share_limit: float,
    loaded_at: datetime,
) -> list[FileAudit]:
    """Load each source, stop at the first above the reject share, then write the audit rows."""
    replacing = any(source.table == EVENTS and not source.is_day_file for source in sources)
    sources = _number_event_batches(con, sources, scans, replacing=replacing)
    audits = []
    for source in sources:
        audit = load_one(con, source, scans[source.path], loaded_at)
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
    sources: list[Source],
    scans: dict[Path, Future[ByteScan]],
    *,
    replacing: bool,
) -> list[Source]:
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
    paths: Sequence[Path],
    db_path: Path,
    *,
    max_reject_share: float | None = None,
    raw_zone: Path | None = None,
) -> list[FileAudit | AlreadyLoaded]:
    """Add day files (`raw_events_<date>.csv`) to `raw.events` of an already loaded database.

    One transaction for all files, in date order. A file whose sha256 is already in
    `raw.events` comes back as `AlreadyLoaded` and adds nothing. Raises LoadError (the database
    unchanged) on a bad name or header, a name already loaded with other content, a database
    without loaded events, or a reject share above the limit. The raw zone as in `load`.
    """
    share_limit = _share_limit(max_reject_share)
    after_commit = zone_writer(_zone_root(raw_zone))
    sources = _day_sources(paths)
    if not db_path.exists():
        raise LoadError(
            f"database {db_path} does not exist; load the history first "
            f"(course-engagement load --db {db_path}), then append day files to it"
        )
    scans = {source.path: line_accounting.scan_bytes(source.path) for source in sources}

    with transaction(db_path, after_commit) as con:
        outcomes, to_load = _plan_append(con, db_path, sources, scans)
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        futures = {path: _done(scan) for path, scan in scans.items()}
        audits = _load_sources(con, to_load, futures, share_limit, loaded_at)
    by_name = {audit.file_name: audit for audit in audits} | outcomes
    return [by_name[source.path.name] for source in sources]


def _day_sources(paths: Sequence[Path]) -> list[Source]:
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
    sources = [Source(EVENTS, path, is_day_file=True) for _, path in sorted(dated)]
    for source in sources:
        check_csv_header(source)
    return sources


def _plan_append(
    con: duckdb.DuckDBPyConnection,
    db_path: Path,
    sources: list[Source],
    scans: dict[Path, ByteScan],
) -> tuple[dict[str, AlreadyLoaded], list[Source]]:
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
    to_load: list[Source] = []
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


def _share_message(
    con: duckdb.DuckDBPyConnection, source: Source, audit: FileAudit, share_limit: float
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
