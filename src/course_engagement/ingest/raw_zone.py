"""The raw zone: Parquet files equal to DuckDB's raw.* tables, for engines that read files (the
Spark target's `raw` sources). The loader writes it from raw.* right after a load commits,
while it still holds the database, so the zone is the committed raw.* and nothing else.

Layout under the root (COURSE_ENGAGEMENT_RAW_ZONE): `<table>/data.parquet` for every table but
events, `events/load_batch_id=<n>/data.parquet` per load batch (hive partitions). Every folder
of a sync is written under `<root>/.staging` first and renamed into place only when all are
written, so a failure leaves the previous zone. Why: ARCHITECTURE.md, "Raw zone".
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from course_engagement.contract import COURSES, ENROLMENTS, EVENTS, USERS
from course_engagement.ingest import load_batches
from course_engagement.ingest.load_error import LoadError
from course_engagement.ingest.sources import RAW_SCHEMA
from course_engagement.paths import folder_problem, literal_pattern
from course_engagement.sql_files import quote_identifier, quote_literal

TABLES = (USERS.name, COURSES.name, ENROLMENTS.name, "load_audit", "load_batches", "load_rejects")
DATA_FILE = "data.parquet"
STAGING = ".staging"  # under the root: folders being written, and the ones they replace
# Each file's key-value metadata says what it holds, so a sync writes only what changed: a
# batch file the sha256 of its events file (a batch number never changes content:
# ingest/load_batches.py), a table file the fingerprint of its rows (`_fingerprint`).
SHA256_KEY = "source_sha256"
FINGERPRINT_KEY = "rows_fingerprint"
_BATCH_FOLDER = re.compile(rf"{load_batches.BATCH_COLUMN}=\d+")

Connection = duckdb.DuckDBPyConnection


class RawZoneError(LoadError):
    """The load is committed, but the raw zone could not be brought up to date."""


@dataclass(frozen=True)
class ZoneSync:
    """What one sync changed, as folders relative to the root."""

    written: tuple[str, ...]
    removed: tuple[str, ...]


def zone_writer(root: Path | None) -> Callable[[Connection], ZoneSync] | None:
    """The loader's step after its commit: sync the zone under `root`; None without a zone."""
    if root is None:
        return None
    return lambda con: sync_raw_zone(con, root)


def sync_raw_zone(con: Connection, root: Path) -> ZoneSync:
    """Make the zone under `root` equal the raw.* tables of `con`.

    A table is written when its rows' fingerprint differs from its file's, an events batch
    when its folder is missing or holds another file's rows; folders of batches
    raw.load_batches no longer lists are removed. Rows are ordered by all columns, so the
    same raw.* gives the same bytes.
    """
    if problem := folder_problem(root):
        raise RawZoneError(f"cannot write the raw zone {root}: {problem}")
    staging = root / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # left by a sync that was killed
    try:
        staging.mkdir()
        # COPY writes rows in ORDER BY order only when insertion order is preserved
        con.execute("SET preserve_insertion_order = true")
        batches = load_batches.current(con)
        # batches first: raw.load_batches in the zone never lists a batch without its folder
        staged = [*_stage_batches(con, root, staging, batches), *_stage_tables(con, root, staging)]
        stale = _stale_batch_folders(root, batches)
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RawZoneError(_failure(root, exc, "the zone is as it was before this load")) from None
    try:
        for folder, target in staged:
            _move_aside(root, target, staging)
            target.parent.mkdir(exist_ok=True)
            folder.rename(target)
        for target in stale:
            _move_aside(root, target, staging)
    except OSError as exc:
        raise RawZoneError(_failure(root, exc, "some folders may be new, others old")) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ZoneSync(
        written=tuple(str(target.relative_to(root)) for _, target in staged),
        removed=tuple(str(target.relative_to(root)) for target in stale),
    )


def _failure(root: Path, exc: Exception, state: str) -> str:
    return (
        f"the load is committed, but the raw zone {root} could not be written ({exc}); {state}. "
        "Fix the cause (disk space, permissions) and run the same load again: it loads the "
        "same rows and writes the zone"
    )


def _stage_tables(con: Connection, root: Path, staging: Path) -> Iterator[tuple[Path, Path]]:
    """(staged folder, target) of each table whose rows differ from its file's."""
    for table in TABLES:
        relation = quote_identifier(f"{RAW_SCHEMA}.{table}")
        fingerprint = _fingerprint(con, relation)
        if _file_metadata(con, root / table / DATA_FILE, FINGERPRINT_KEY) == fingerprint:
            continue
        folder = staging / table
        folder.mkdir()
        select = f"SELECT * FROM {relation} ORDER BY ALL"
        _copy(con, select, folder / DATA_FILE, {FINGERPRINT_KEY: fingerprint})
        yield folder, root / table


def _fingerprint(con: Connection, relation: str) -> str:
    """The row count and the sum of the rows' hashes: the same for the same rows in any order,
    different for other rows but for a 64-bit hash collision. Cheaper than writing the table
    to compare its bytes (ARCHITECTURE.md, "Raw zone")."""
    rows, hashes = con.execute(
        f"SELECT count(*), coalesce(sum(hash(_row)::HUGEINT), 0) FROM {relation} AS _row"
    ).fetchone()
    return f"{rows}:{hashes}"


def _stage_batches(
    con: Connection, root: Path, staging: Path, batches: list[tuple[int, str, str]]
) -> Iterator[tuple[Path, Path]]:
    """(staged folder, target) of each load batch whose folder lacks its file's rows."""
    columns = ", ".join(quote_identifier(name) for name in EVENTS.column_names)
    for batch_id, file_name, sha256 in batches:
        target = root / EVENTS.name / f"{load_batches.BATCH_COLUMN}={batch_id}"
        if _file_metadata(con, target / DATA_FILE, SHA256_KEY) == sha256:
            continue
        folder = staging / f"{EVENTS.name}-{batch_id}"
        folder.mkdir()
        select = (
            f"SELECT {columns} FROM {RAW_SCHEMA}.{EVENTS.name} "
            f"WHERE {load_batches.BATCH_COLUMN} = {int(batch_id)} ORDER BY ALL"
        )
        _copy(con, select, folder / DATA_FILE, {"source_file": file_name, SHA256_KEY: sha256})
        yield folder, target


def _file_metadata(con: Connection, path: Path, key: str) -> str | None:
    """A zone file's key-value metadata under `key`; None when missing or unreadable."""
    if not path.is_file():
        return None
    try:
        row = con.execute(
            "SELECT decode(value) FROM parquet_kv_metadata(?) WHERE decode(key) = ?",
            [literal_pattern(path), key],
        ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def _stale_batch_folders(root: Path, batches: list[tuple[int, str, str]]) -> list[Path]:
    events = root / EVENTS.name
    if not events.is_dir():
        return []
    held = {f"{load_batches.BATCH_COLUMN}={batch_id}" for batch_id, _, _ in batches}
    return sorted(
        folder
        for folder in events.iterdir()
        if _BATCH_FOLDER.fullmatch(folder.name) and folder.name not in held
    )


def _move_aside(root: Path, target: Path, staging: Path) -> None:
    """Move `target` into staging (removed with it), so its name is free for a rename."""
    if target.exists():
        target.rename(staging / ("replaced-" + "-".join(target.relative_to(root).parts)))


def _copy(con: Connection, select: str, path: Path, metadata: dict[str, str] | None = None) -> None:
    options = "FORMAT parquet"
    if metadata:
        pairs = ", ".join(f"{key}: {quote_literal(value)}" for key, value in metadata.items())
        options += f", KV_METADATA {{{pairs}}}"
    con.execute(f"COPY ({select}) TO {quote_literal(str(path))} ({options})")


def zone_row_counts(root: Path) -> dict[str, int]:
    """Rows per folder of the zone, read from the Parquet footers: one entry per table
    (`users`, ...) and one per load batch (`events/load_batch_id=<n>`)."""
    files = [*root.glob(f"*/{DATA_FILE}"), *root.glob(f"{EVENTS.name}/*/{DATA_FILE}")]
    counts = {}
    with duckdb.connect() as con:
        for path in sorted(files):
            if not path.parent.name.startswith("."):
                counts[str(path.parent.relative_to(root))] = con.execute(
                    "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)",
                    [literal_pattern(path)],
                ).fetchone()[0]
    return counts


def summary(root: Path) -> str:
    """The line the load command prints: rows per table, batches and rows of events."""
    counts = zone_row_counts(root)
    batches = [rows for folder, rows in counts.items() if folder.startswith(f"{EVENTS.name}/")]
    tables = ", ".join(f"{table} {counts.get(table, 0)}" for table in TABLES)
    return (
        f"raw zone {root}: {tables} rows; {EVENTS.name} {sum(batches)} rows "
        f"(load batches: {len(batches)})"
    )
