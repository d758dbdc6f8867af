"""A hand-filled analytics.mart_course_engagement for tests of what reads it (export, run).

The table takes its columns and types from the mart's dbt contract, so a test names only the
columns it is about (by name); every other column is null, and a new mart column changes no
test that does not look at it.
"""

from __future__ import annotations

from typing import Any

import duckdb

from course_engagement.mart_contract import contract_columns

MART = "analytics.mart_course_engagement"


def create_engagement_mart(
    con: duckdb.DuckDBPyConnection, select_sql: str, params: list[Any] | None = None
) -> None:
    """Create the mart as its contract types it and insert `select_sql`'s rows by column name."""
    typed = contract_columns("mart_course_engagement").items()
    columns = ", ".join(f"{name} {data_type}" for name, data_type in typed)
    con.execute("create schema if not exists analytics")
    con.execute(f"create table {MART} ({columns})")
    con.execute(f"insert into {MART} by name {select_sql}", params)
