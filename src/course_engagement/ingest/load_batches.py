"""Load batches: which events file each row of raw.events came in.

Every row of `raw.events` carries `load_batch_id`, one number per events file, and
`raw.load_batches` lists the batches the table holds now. dbt's incremental models take the
batches they have not processed yet (2-dbt_project/macros/load_batches.sql), so a daily run reads
the day's rows, not history. Numbers never come from a clock: loading the same files gives the
same numbers, so the same raw tables. A number is never reused for other content: a full reload
keeps the numbers of the files it shares, in order, with what is loaded (same name, same
sha256), and numbers everything after the first difference above any number used before, which
tells the models that history changed (they then rebuild by themselves).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb

BATCHES_TABLE = "raw.load_batches"  # created with the loader's tables (bookkeeping_tables.sql)
BATCH_COLUMN = "load_batch_id"


def current(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    """(id, file, sha256) of every batch in raw.events, in id order."""
    return con.execute(
        f"SELECT {BATCH_COLUMN}, file_name, sha256 FROM {BATCHES_TABLE} ORDER BY {BATCH_COLUMN}"
    ).fetchall()


def number(
    con: duckdb.DuckDBPyConnection,
    names: Sequence[str],
    sha256_of: Callable[[int], str],
    *,
    replacing: bool,
) -> list[int]:
    """Batch ids for events files in load order (`sha256_of(position)` gives a file's hash).

    `replacing`: a full load, which rebuilds raw.events from these files; its files keep the
    ids of the loaded batches they repeat from the start. Otherwise the files are appended. A
    hash is asked for only where a file's name repeats a loaded batch's, so a first load of a
    large file need not wait for its hash.
    """
    loaded = current(con)
    used = con.execute(f"SELECT coalesce(max({BATCH_COLUMN}), 0) FROM raw.load_audit").fetchone()[0]
    used = max([used, *(batch_id for batch_id, _, _ in loaded)])
    ids: list[int] = []
    same_prefix = replacing
    for position, name in enumerate(names):
        same_prefix = (
            same_prefix
            and position < len(loaded)
            and loaded[position][1] == name
            and loaded[position][2] == sha256_of(position)
        )
        if same_prefix:
            ids.append(loaded[position][0])
        else:
            used += 1
            ids.append(used)
    return ids


def record(
    con: duckdb.DuckDBPyConnection, batches: Sequence[tuple[int, str, str, int]], *, replacing: bool
) -> None:
    """Write (id, file, sha256, rows) of the batches just loaded; a full load replaces the list."""
    if replacing:
        con.execute(f"DELETE FROM {BATCHES_TABLE}")
    con.executemany(f"INSERT INTO {BATCHES_TABLE} VALUES (?, ?, ?, ?)", list(batches))
