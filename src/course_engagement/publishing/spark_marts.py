"""The tables of a Spark build read with DuckDB, so the gate, the export and the page have one
code path for both engines and no JVM.

In dbt-spark's session mode a managed table is a folder of Parquet files under the warehouse,
`<warehouse>/analytics.db/<table>/`. `connect` opens an in-memory DuckDB holding a view
`analytics.<table>` per such folder, and views `raw.<table>` and the run history over the loaded
DuckDB file (attached read-only: the loader's tables and the gate's memory stay there on either
engine). The SQL of `quality.py`, `export.py` and `page/` then runs unchanged. A published mart's
columns are cast to its contract's types (`mart_contract`), so a CSV cell prints as the DuckDB
build's does whatever integer width or decimal Spark chose.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from course_engagement.mart_contract import contract_columns
from course_engagement.sql_files import quote_identifier, quote_literal

SCHEMA_DIR = "analytics.db"  # where Spark keeps the tables of the schema `analytics`
LOADED = "loaded"  # the DuckDB file's catalog in the connection
# The gate's catalogue (quality.CATALOGUE) is a view on Spark, not a Parquet folder. The base
# model passes raw.courses' course_id through and never filters (ARCHITECTURE.md, raw -> dbt),
# so its course ids are raw.courses'; only course_id is offered, so any other use fails loudly.
CATALOGUE_VIEW = "select course_id from raw.courses"
HISTORY_TABLE = "pipeline_run_history"


def table_folders(warehouse: Path) -> dict[str, Path]:
    """Table name -> folder, for every table of `analytics` in `warehouse` that holds Parquet."""
    schema_dir = warehouse / SCHEMA_DIR
    if not schema_dir.is_dir():
        return {}
    return {
        folder.name: folder
        for folder in sorted(schema_dir.iterdir())
        if folder.is_dir() and any(folder.rglob("*.parquet"))
    }


def _select_list(table: str) -> str:
    try:
        columns = contract_columns(table)
    except ValueError:  # no enforced contract: not a published shape, read as Spark wrote it
        return "*"
    return ", ".join(
        f"cast({quote_identifier(name)} as {kind}) as {quote_identifier(name)}"
        for name, kind in columns.items()
    )


def _loaded_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ? "
        "order by table_name",
        [LOADED, schema],
    ).fetchall()
    return [name for (name,) in rows]


def connect(db_path: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB reading Spark's `analytics` tables and the loaded file's raw tables.

    Raises `duckdb.IOException` as `duckdb.connect` would when another process holds the file.
    """
    con = duckdb.connect()
    try:
        con.execute(f"attach {quote_literal(str(db_path))} as {LOADED} (read_only)")
        con.execute("create schema raw")
        con.execute("create schema analytics")
        for table in _loaded_tables(con, "raw"):
            name = quote_identifier(table)
            con.execute(f"create view raw.{name} as select * from {LOADED}.raw.{name}")
        if HISTORY_TABLE in _loaded_tables(con, "analytics"):
            con.execute(
                f"create view analytics.{HISTORY_TABLE} "
                f"as select * from {LOADED}.analytics.{HISTORY_TABLE}"
            )
        con.execute(f"create view analytics.base_raw__courses as {CATALOGUE_VIEW}")
        for table, folder in table_folders(warehouse).items():
            files = quote_literal(str(folder / "**" / "*.parquet"))  # partitions too
            con.execute(
                f"create view analytics.{quote_identifier(table)} as "
                f"select {_select_list(table)} from read_parquet({files})"
            )
    except BaseException:
        con.close()
        raise
    return con
