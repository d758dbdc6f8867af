"""What a DuckDB file holds: "does this table exist", and the newest load batch the models hold."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """True when `table` ("schema.name") is a table or view in the connected database."""
    schema, name = table.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


# The first incremental model to take a load batch (2-dbt_project/macros/load_batches.sql).
DEDUPLICATED_EVENTS = "analytics.int_events__deduplicated"


def newest_processed_load_batch(con: duckdb.DuckDBPyConnection) -> int:
    """The newest load batch the incremental models hold; 0 before their first build."""
    if not table_exists(con, DEDUPLICATED_EVENTS):
        return 0
    return con.execute(
        f"select coalesce(max(load_batch_id), 0) from {DEDUPLICATED_EVENTS}"
    ).fetchone()[0]


# DuckDB's message when another process holds the file; no other IO error is a lock.
LOCK_MESSAGE = "Could not set lock on file"


def is_lock_conflict(error: BaseException | str | None) -> bool:
    """True only for DuckDB's lock message (a full disk or a bad path is not a lock)."""
    return error is not None and LOCK_MESSAGE.lower() in str(error).lower()
