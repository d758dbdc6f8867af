"""What the Spark tests share: Java required, the Spark target's environment, its tables read.

A Spark build is a real `dbt build --target spark` through dbt_harness.DbtRun.dbt (dbt-spark's
session method: a local Spark inside dbt's child process). Its tables are Parquet files in its
warehouse, read here with DuckDB, so no test process starts a JVM of its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest


def require_java() -> None:
    """Fail (never skip) when there is no Java for Spark, saying how to get one."""
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin/java").exists()):
        pytest.fail(
            "Spark needs Java 17 and there is none on PATH or in JAVA_HOME: install it "
            "(apt-get install openjdk-17-jre-headless) or set JAVA_HOME, then rerun "
            "`uv run pytest -m spark`."
        )


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
