"""Spark reads the raw zone as DuckDB wrote it: a real local Spark session (local[2], 1g
driver, session time zone UTC) against a zone the real loader wrote (tests/test_raw_zone.py's
files: history in batch 1, day 2 in batch 2, users with nulls in every type).

Marked `spark`: it needs Java 17; without it the test fails and says so, it never skips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from spark_harness import require_java
from test_loader_append import DAY_2, write_day
from test_raw_zone import DAY_2_NAME, write_data

from course_engagement.ingest.loader import append, load

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    require_java()
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("raw-zone-test")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark_warehouse")))
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("zone_for_spark")
    db, zone = folder / "warehouse.duckdb", folder / "zone"
    load(write_data(folder / "data"), db, raw_zone=zone)
    day_2 = write_day(folder / "incoming", DAY_2_NAME, DAY_2)
    append([day_2], db, max_reject_share=0.5, raw_zone=zone)
    return db, zone


def _duckdb_rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_spark_reads_the_users_duckdb_loaded_value_for_value(spark, zone) -> None:
    db, root = zone
    users = spark.read.parquet(str(root / "users"))

    assert users.dtypes == [
        ("id", "bigint"),
        ("fullName", "string"),
        ("email", "string"),
        ("signupDate", "date"),
        ("state", "string"),
        ("isGovEmployee", "boolean"),
        ("updatedAt", "timestamp_ntz"),
        ("deleted", "boolean"),
    ]
    rows = [tuple(row) for row in users.orderBy("id").collect()]
    assert rows == _duckdb_rows(db, "SELECT * FROM raw.users ORDER BY id")
    assert rows[1] == (2, "Grace Hopper", None, dt.date(2024, 1, 6), None, True, None, True)
    assert rows[2][3:7] == (None, "pending", None, dt.datetime(2024, 2, 3, 23, 59, 59))


def test_spark_reads_one_batch_of_events_duckdb_loaded_value_for_value(spark, zone) -> None:
    db, root = zone
    events = spark.read.parquet(str(root / "events"))

    assert dict(events.dtypes)["event_timestamp"] == "timestamp_ntz"
    assert dict(events.dtypes)["load_batch_id"] == "int"  # inferred from the folder names
    batch = events.where("load_batch_id = 2").orderBy("id")
    assert batch.count() == 3
    rows = [tuple(row) for row in batch.collect()]
    assert rows == _duckdb_rows(db, "SELECT * FROM raw.events WHERE load_batch_id = 2 ORDER BY id")
    assert rows[0] == (
        2,
        1,
        10,
        "video_complete",
        dt.datetime(2024, 3, 1, 10, 12, 30),
        "s1",
        None,
        2,
    )
