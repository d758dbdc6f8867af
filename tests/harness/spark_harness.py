"""What the Spark tests share: Java required, the Spark target's environment, its tables read.

A Spark build is a real `dbt build --target spark` through dbt_harness.DbtRun.dbt (dbt-spark's
session method: a local Spark inside dbt's child process). Its tables are Parquet files in its
warehouse, read here with DuckDB, so no test process starts a JVM of its own.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from course_engagement.orchestration import spark_engine


def require_java() -> None:
    """Fail (never skip) when Spark has no usable Java; `spark_engine.require_java` says why."""
    try:
        spark_engine.require_java()
    except spark_engine.JavaMissingError as error:
        pytest.fail(f"{error}; then rerun `uv run pytest -m spark`", pytrace=False)


def spark_env(zone: Path, warehouse: Path) -> dict[str, str]:
    """The environment of the Spark target: the raw zone it reads, the warehouse it writes."""
    return {
        "COURSE_ENGAGEMENT_RAW_ZONE": str(zone),
        "COURSE_ENGAGEMENT_SPARK_WAREHOUSE": str(warehouse),
    }


def spark_table_rows(
    warehouse: Path, table: str, columns: str = "*", order_by: str | None = None
) -> tuple[list[str], list[tuple]]:
    """The column names and rows of a Spark table of schema analytics, from its Parquet files."""
    files = warehouse / "analytics.db" / table / "*.parquet"
    query = f"select {columns} from read_parquet('{files}')"
    with duckdb.connect() as con:
        cursor = con.execute(query + (f" order by {order_by}" if order_by else ""))
        return [column[0] for column in cursor.description], cursor.fetchall()
