"""Load one source file into its raw table and account for every data line of it.

A CSV is read by DuckDB with every column as text and typed by `csv_values` in the same query;
rejected records go to DuckDB's rejects table. When loaded rows plus rejected records equal the
file's physical lines (the usual case) the accounting is done; otherwise `reject_lines` places
every reject on its physical line. A parquet file has no lines to reject.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime

import duckdb

from course_engagement.contract import EVENTS, RawTable
from course_engagement.ingest import csv_values, line_accounting, load_batches, reject_lines
from course_engagement.ingest.file_checks import parse_error
from course_engagement.ingest.line_accounting import ByteScan
from course_engagement.ingest.load_error import LoadError
from course_engagement.ingest.sources import DAY_FILE_SQL_PATTERN, RAW_SCHEMA, REJECTS_TABLE, Source
from course_engagement.paths import literal_pattern
from course_engagement.sql_files import quote_identifier, sql_file


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
    load_batch_id: int | None = None  # events files only (ingest/load_batches.py)

    @property
    def reject_share(self) -> float:
        return self.rejected_lines / self.data_lines if self.data_lines else 0.0

    def summary(self) -> str:
        """The conservation line printed per file."""
        return (
            f"{self.file_name}: {self.data_lines} data lines = "
            f"{self.loaded_rows} loaded + {self.rejected_lines} rejected"
        )


def _create_table(
    con: duckdb.DuckDBPyConnection, table: RawTable, target: str, *, temporary: bool = False
) -> str:
    columns = ", ".join(f"{quote_identifier(name)} {kind}" for name, kind in table.columns)
    if table == EVENTS:
        columns += f", {load_batches.BATCH_COLUMN} BIGINT NOT NULL"
    kind = "TEMP TABLE" if temporary else "TABLE"
    con.execute(f"CREATE OR REPLACE {kind} {target} ({columns})")
    return target


def load_one(
    con: duckdb.DuckDBPyConnection, source: Source, scan: Future[ByteScan], loaded_at: datetime
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
                [DAY_FILE_SQL_PATTERN],
            )
        return _load_into(con, source, raw_table, scan, loaded_at)

    con.execute(f"DELETE FROM {REJECTS_TABLE} WHERE file_name = ?", [source.path.name])
    stage = _create_table(con, source.table, _temp_name("stage", source), temporary=True)
    audit = _load_into(con, source, stage, scan, loaded_at)
    con.execute(f"INSERT INTO {raw_table} SELECT * FROM {stage}")
    con.execute(f"DROP TABLE {stage}")
    return audit


def _temp_name(kind: str, source: Source) -> str:
    """A temp table name unique to the file, so several files load in one transaction."""
    return f"_{kind}_" + re.sub(r"[^A-Za-z0-9]", "_", source.path.stem)


def _load_into(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    target: str,
    scan: Future[ByteScan],
    loaded_at: datetime,
) -> FileAudit:
    if source.is_parquet:
        loaded, data_lines, rejected = _load_parquet(con, source, target)
        return _audit(source, scan.result(), data_lines, loaded, rejected, loaded_at)

    rejects_table = _temp_name("rejects", source)
    read = csv_values.read_text_sql(
        source.table,
        f"store_rejects = true, rejects_table = '{rejects_table}', "
        f"rejects_scan = '{_temp_name('reject_scans', source)}'",
    )
    try:
        loaded = con.execute(
            f"INSERT INTO {target} "
            f"{csv_values.checked_select(source.table, read, _batch_column(source))}",
            {"path": literal_pattern(source.path)},
        ).fetchone()[0]
    except duckdb.Error as exc:
        raise LoadError(parse_error(source.path, exc)) from None

    byte_scan = scan.result()
    records = con.execute(f"SELECT count(DISTINCT line) FROM {rejects_table}").fetchone()[0]
    if loaded + records == byte_scan.physical_lines:
        # Every record is exactly one physical line and every value was exact, so DuckDB's
        # line numbers are physical ones.
        if records:
            con.execute(
                f"INSERT INTO {REJECTS_TABLE} SELECT ?, line, column_name, error, "
                f"left(raw_line, {line_accounting.RAW_LINE_KEPT}) "
                f"FROM ({sql_file(__file__, 'grouped_rejects.sql', rejects=rejects_table)})",
                [source.path.name],
            )
        return _audit(source, byte_scan, byte_scan.physical_lines, loaded, records, loaded_at)

    values = reject_lines.value_problems(source, loaded)
    data_lines, rows = reject_lines.account_for_lines(
        con, source, target, rejects_table, loaded, byte_scan, values
    )
    reject_lines.insert_reject_rows(con, source.path.name, rows)
    return _audit(source, byte_scan, data_lines, loaded, len(rows), loaded_at)


def _batch_column(source: Source) -> str:
    """The select-list tail that stamps an events file's rows with its load batch id."""
    if source.load_batch_id is None:
        return ""
    return f", {int(source.load_batch_id)} AS {load_batches.BATCH_COLUMN}"


def _load_parquet(
    con: duckdb.DuckDBPyConnection, source: Source, target: str
) -> tuple[int, int, int]:
    path = literal_pattern(source.path)
    select = ", ".join(f"{quote_identifier(n)}::{t}" for n, t in source.table.columns)
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
    source: Source,
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
