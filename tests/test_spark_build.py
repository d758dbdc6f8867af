"""The Spark target builds the base and event-grain models to the same rows as DuckDB.

The committed sample is loaded by the real loader into DuckDB and built there (seeds, base
models, the event-grain models and their data tests); its raw tables are copied to a raw zone
(tests/harness/zone_copy.py) and the same selection is built by a real `dbt build --target
spark` (dbt-spark's session method: a local Spark inside dbt's process). Spark's tables are
Parquet files in its warehouse, read here with DuckDB and compared with DuckDB's row for row.
Needs Java 17 (marker `spark`; a missing Java fails, it is never skipped).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from dbt_harness import REPO_ROOT, CommandResult, DbtFailed, DbtRun, load_into_new_db
from spark_harness import require_java, spark_env, spark_table_rows
from zone_copy import write_raw_zone

pytestmark = pytest.mark.spark

SAMPLE_DIR = REPO_ROOT / "data"
BASE_MODELS = ("base_raw__users", "base_raw__courses", "base_raw__enrolments", "base_raw__events")
SEEDS = ("exclusion_reasons", "defect_classes")
EVENT_MODELS = (
    "int_events__deduplicated",
    "int_events__date_counts",
    "int_load_batches__event_rows",
)
# The seeds, the base models, the event-grain tables and every test whose models are all
# selected. Unit tests read no data; the DuckDB suite runs them.
SELECTION = [
    "--select",
    "path:models/base",
    *EVENT_MODELS,
    "--indirect-selection",
    "cautious",
    "--exclude",
    "resource_type:unit_test",
]
# Columns of int_events__deduplicated that hold a hash: each engine has its own 64-bit hash
# (macros/cross_engine/row_identity.sql), so they are compared by their count only.
HASH_COLUMNS = ("raw_row_hash", "payload_hashes")


@dataclass(frozen=True)
class SparkBuild:
    duckdb_run: DbtRun
    duckdb_commands: list[CommandResult]
    spark_commands: list[CommandResult]
    warehouse: Path
    zone: Path

    def spark_rows(self, table: str, order_by: str, columns: str = "*") -> list[tuple]:
        """The rows of a Spark table, read from its Parquet files in the warehouse."""
        return spark_table_rows(self.warehouse, table, columns, order_by)[1]

    def duckdb_rows(self, table: str, order_by: str, columns: str = "*") -> list[tuple]:
        return self.duckdb_run.query(f"select {columns} from analytics.{table} order by {order_by}")


@pytest.fixture(scope="module")
def end_date() -> str:
    return json.loads((SAMPLE_DIR / "manifest.json").read_text())["end_date"]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, end_date: str) -> SparkBuild:
    require_java()
    root = tmp_path_factory.mktemp("spark_build")
    duckdb_run = load_into_new_db(SAMPLE_DIR, root / "duckdb")
    duckdb_commands = duckdb_run.dbt(["build", *SELECTION], as_of_date=end_date)
    zone = write_raw_zone(duckdb_run.db_path, root / "raw_zone")
    warehouse = root / "spark_warehouse"
    spark_run = DbtRun(db_path=duckdb_run.db_path, run_dir=root / "spark")
    spark_commands = spark_run.dbt(
        ["build", *SELECTION],
        as_of_date=end_date,
        target="spark",
        env=spark_env(zone, warehouse),
    )
    return SparkBuild(duckdb_run, duckdb_commands, spark_commands, warehouse, zone)


def test_spark_builds_and_tests_the_same_nodes_as_duckdb(build: SparkBuild) -> None:
    spark = build.spark_commands[-1].statuses
    duckdb_nodes = build.duckdb_commands[-1].statuses
    assert sorted(spark) == sorted(duckdb_nodes)
    assert {
        node: status for node, status in spark.items() if status not in {"success", "pass"}
    } == {}
    built = sorted(node.split(".")[-1] for node in spark if node.startswith(("model.", "seed.")))
    assert built == sorted([*BASE_MODELS, *SEEDS, *EVENT_MODELS])


def test_event_date_counts_on_spark_equal_duckdb(build: SparkBuild) -> None:
    spark = build.spark_rows("int_events__date_counts", "event_date_key")
    assert len(spark) > 300
    assert spark == build.duckdb_rows("int_events__date_counts", "event_date_key")


def test_load_batch_rows_on_spark_equal_duckdb_and_the_loaded_rows(build: SparkBuild) -> None:
    spark = build.spark_rows("int_load_batches__event_rows", "load_batch_id")
    assert spark == build.duckdb_rows("int_load_batches__event_rows", "load_batch_id")
    loaded = build.duckdb_run.query("select load_batch_id, loaded_rows from raw.load_batches")
    assert [(batch, rows) for batch, rows, _, _ in spark] == loaded


def test_deduplicated_events_on_spark_equal_duckdb_but_for_the_hashes(build: SparkBuild) -> None:
    # every column but the hashes, and how many payloads each event id had
    columns = (
        "* exclude (raw_row_hash, payload_hashes), "
        "coalesce(len(payload_hashes), 1) as payload_count"
    )
    spark = build.spark_rows("int_events__deduplicated", "event_id", columns)
    assert len(spark) == build.duckdb_run.query("select count(distinct id) from raw.events")[0][0]
    assert spark == build.duckdb_rows("int_events__deduplicated", "event_id", columns)


def test_spark_counts_the_planted_duplicates(build: SparkBuild) -> None:
    planted = json.loads((SAMPLE_DIR / "manifest.json").read_text())["defects"]
    counted = build.spark_rows(
        "int_events__date_counts",
        "1",
        "sum(exact_duplicate_row_count), sum(conflicting_payload_count)",
    )
    assert counted == [(planted["events_exact_duplicates"], planted["events_id_conflicts"])]


def test_a_raw_zone_without_a_folder_stops_the_spark_build_naming_it(
    build: SparkBuild, tmp_path: Path, end_date: str
) -> None:
    zone = tmp_path / "raw_zone"
    shutil.copytree(build.zone, zone)
    shutil.rmtree(zone / "load_rejects")
    run = DbtRun(db_path=build.duckdb_run.db_path, run_dir=tmp_path / "spark")
    with pytest.raises(DbtFailed) as failure:
        run.dbt(
            ["run", "--select", "base_raw__courses"],
            as_of_date=end_date,
            target="spark",
            env=spark_env(zone, tmp_path / "spark_warehouse"),
        )
    assert f"The raw zone {zone} has no Parquet file in {zone}/load_rejects/." in str(failure.value)
