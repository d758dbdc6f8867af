"""What a DuckDB file holds: one query for "does this table exist", shared by every module."""

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
