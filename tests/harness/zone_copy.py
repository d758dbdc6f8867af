"""A raw zone for tests: the raw.* tables of a loaded DuckDB file as Parquet folders.

Stand-in for the loader's own writer (issue 15, helper "zone"), in the layout the Spark target
reads (2-dbt_project/macros/cross_engine/raw_sources.sql): <root>/<table>/data.parquet, and the
events as hive partitions <root>/events/load_batch_id=<n>/data.parquet (the partition column is
the folder name, not a column of the file). Rows ordered by every column, so the same tables
give the same bytes. Replace with the loader's writer once it lands.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

RAW_ZONE_TABLES = (
    "users",
    "courses",
    "enrolments",
    "events",
    "load_audit",
    "load_batches",
    "load_rejects",
)


def write_raw_zone(db_path: Path, root: Path) -> Path:
    """COPY every raw.* table of `db_path` to the zone layout under `root` (made empty first)."""
    shutil.rmtree(root, ignore_errors=True)
    with duckdb.connect(str(db_path), read_only=True) as con:
        for table in RAW_ZONE_TABLES:
            if table != "events":
                _copy(con, f"select * from raw.{table}", root / table)
                continue
            for (batch_id,) in con.execute("select load_batch_id from raw.load_batches").fetchall():
                batch = f"raw.events where load_batch_id = {batch_id}"
                rows = f"select * exclude (load_batch_id) from {batch}"
                _copy(con, rows, root / "events" / f"load_batch_id={batch_id}")
    return root


def _copy(con: duckdb.DuckDBPyConnection, query: str, folder: Path) -> None:
    folder.mkdir(parents=True)
    con.execute(f"copy ({query} order by all) to '{folder / 'data.parquet'}' (format parquet)")
