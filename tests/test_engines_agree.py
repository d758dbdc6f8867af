"""DuckDB and Spark build the same marts from the same sample, cell for cell.

The committed sample is loaded by the real loader into DuckDB and built there by the shared
`sample_build` (tests/conftest.py: every model, data test and unit test); its raw tables are
copied to a raw zone (tests/harness/zone_copy.py) and every seed and model is built again by
a real `dbt build --target spark` (a local Spark in dbt's process; every Spark build is a full
refresh). The data tests are left out there: on two cores they double the Spark build, and
equal marts are the stronger check (tests/test_spark_build.py runs the base and event-grain
tests on Spark).

Every mart must be equal: the same columns in the same order, the same number of rows, and,
rows matched on the mart's key, every cell equal - floating point within FLOAT_TOLERANCE,
everything else exactly, Python type included. Spark's tables are Parquet files in its
warehouse, read here with DuckDB. Needs Java 17 (marker `spark`; a missing Java fails).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbt_harness import MART_KEYS, CommandResult, DbtRun
from spark_harness import require_java, spark_env, spark_table_rows
from zone_copy import write_raw_zone

pytestmark = pytest.mark.spark

# Relative tolerance of a floating-point cell (rates, averages, changes): both engines sum and
# divide doubles, in an order of their own, so the last bits may differ; 1e-9 relative is far
# below any printed digit. Absolute below 1e-12, for a value that is 0 on one side.
FLOAT_TOLERANCE = 1e-9
FLOAT_FLOOR = 1e-12


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Engines:
    duckdb: DbtRun
    duckdb_build: CommandResult
    spark_build: CommandResult
    warehouse: Path

    def duckdb_mart(self, mart: str) -> Table:
        rows = self.duckdb.query_dicts(f"select * from analytics.{mart}")
        columns = [row[0] for row in self.duckdb.query(f"describe analytics.{mart}")]
        return Table(columns, rows)

    def spark_mart(self, mart: str) -> Table:
        columns, rows = spark_table_rows(self.warehouse, mart)
        return Table(columns, [dict(zip(columns, row, strict=True)) for row in rows])


@pytest.fixture(scope="module")
def engines(sample_build, tmp_path_factory: pytest.TempPathFactory) -> Engines:
    require_java()
    root = tmp_path_factory.mktemp("engines_agree")
    zone = write_raw_zone(sample_build.run.db_path, root / "raw_zone")
    warehouse = root / "spark_warehouse"
    spark = DbtRun(db_path=sample_build.run.db_path, run_dir=root / "spark")
    commands = spark.dbt(
        ["build", "--exclude", "resource_type:test", "resource_type:unit_test"],
        as_of_date=sample_build.end_date,
        target="spark",
        env=spark_env(zone, warehouse),
    )
    (duckdb_build,) = [c for c in sample_build.commands if c.args[0] == "build"]
    return Engines(sample_build.run, duckdb_build, commands[-1], warehouse)


def _cells_differ(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return not math.isclose(expected, actual, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_FLOOR)
    return type(expected) is not type(actual) or expected != actual


def _by_key(table: Table, key: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
    rows = {tuple(row[column] for column in key): row for row in table.rows}
    assert len(rows) == len(table.rows), f"the key {key} is not unique"
    return rows


def _built(command: CommandResult) -> dict[str, str]:
    return {
        node: status
        for node, status in command.statuses.items()
        if node.startswith(("model.", "seed."))
    }


def test_spark_builds_every_seed_and_model_duckdb_builds(engines: Engines) -> None:
    spark, duckdb_nodes = _built(engines.spark_build), _built(engines.duckdb_build)
    assert sorted(spark) == sorted(duckdb_nodes)
    assert {node for node, status in spark.items() if status != "success"} == set()
    assert {f"model.course_engagement.{mart}" for mart in MART_KEYS} <= set(spark)


@pytest.mark.parametrize("mart", MART_KEYS)
def test_spark_builds_the_mart_duckdb_builds(engines: Engines, mart: str) -> None:
    expected, actual = engines.duckdb_mart(mart), engines.spark_mart(mart)
    assert actual.columns == expected.columns
    assert len(actual.rows) == len(expected.rows) > 0
    key = MART_KEYS[mart]
    expected_rows, actual_rows = _by_key(expected, key), _by_key(actual, key)
    assert sorted(actual_rows, key=repr) == sorted(expected_rows, key=repr)
    differences = [
        f"{mart} {dict(zip(key, values, strict=True))} {column}: "
        f"DuckDB {row[column]!r}, Spark {actual_rows[values][column]!r}"
        for values, row in expected_rows.items()
        for column in expected.columns
        if _cells_differ(row[column], actual_rows[values][column])
    ]
    assert differences == [], "\n".join(differences[:20])
