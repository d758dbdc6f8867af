"""Writing the generated tables: CSV exactly as the contract's header says, or parquet with the
contract's types; events streamed batch by batch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from course_engagement.contract import EVENTS, USERS, RawTable


class EventWriter:
    """Writes event batches in file order, numbering ids and sessions as it goes."""

    def __init__(self, path: Path, file_format: str) -> None:
        self.path = path
        self.file_format = file_format
        self.next_id = 1
        self.next_session = 0
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._handle = None
        if file_format == "csv":
            self._handle = path.open("wb")
            self._handle.write((EVENTS.header + "\n").encode())

    def write(self, rows: pa.Table) -> None:
        self.rows += rows.num_rows
        if self.file_format == "csv":
            _write_csv_rows(rows, self._handle)
        else:
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, parquet_schema(EVENTS))
            self._writer.write_table(rows.cast(parquet_schema(EVENTS)))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._writer is not None:
            self._writer.close()
        elif self.file_format == "parquet":
            pq.write_table(_empty_table(EVENTS), self.path)


def parquet_schema(table: RawTable) -> pa.Schema:
    arrow = {
        "BIGINT": pa.int64(),
        "VARCHAR": pa.string(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
    }
    return pa.schema([(name, arrow[kind]) for name, kind in table.columns])


def _empty_table(table: RawTable) -> pa.Table:
    return parquet_schema(table).empty_table()


def _write_csv_rows(rows: pa.Table, handle) -> None:
    pacsv.write_csv(
        rows,
        handle,
        pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536),
    )


def write_table(rows: pa.Table, table: RawTable, path: Path, file_format: str) -> None:
    if file_format == "csv":
        with path.open("wb") as handle:
            handle.write((table.header + "\n").encode())
            _write_csv_rows(rows, handle)
        return
    parquet = rows
    if table is USERS:  # `deleted` is TRUE-or-empty text in CSV, a boolean in parquet
        deleted = pa.array(np.array(rows["deleted"].to_pylist()) == "TRUE")
        parquet = rows.set_column(rows.schema.get_field_index("deleted"), "deleted", deleted)
    pq.write_table(parquet.cast(parquet_schema(table)), path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
