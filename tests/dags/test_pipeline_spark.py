"""The real DAG on the Spark engine (`course-engagement run --engine spark`) publishes what the
DuckDB engine publishes: every CSV report byte for byte, and the same daily page.

Both runs go through Airflow on the committed sample, each with its own database and output
folder (the Spark run's raw zone and warehouse beside its database, the defaults) and Airflow
home. Marked
`spark`: it needs Java 17; without it the test fails saying so, it never skips.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from spark_harness import require_java
from test_dag_integrity import CHAIN

from course_engagement.orchestration.local_airflow import run

pytestmark = pytest.mark.spark

DATE = "2026-10-31"
ENGINES = ("duckdb", "spark")


@pytest.fixture(scope="module")
def runs(airflow_env, tmp_path_factory):
    """Engine -> the root of its run (database, raw zone, warehouse, output)."""
    require_java()
    roots = {}
    for engine in ENGINES:
        root = tmp_path_factory.mktemp(f"engine_{engine}")
        with pytest.MonkeyPatch.context() as env:
            env.setenv("COURSE_ENGAGEMENT_DB", str(root / "pipeline.duckdb"))
            env.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(root / "output"))
            # its own Airflow home: the report asset's URI is the output folder, and one metadata
            # database takes one URI per asset name
            env.setenv("AIRFLOW_HOME", str(root / "airflow_home"))
            for name in ("COURSE_ENGAGEMENT_RAW_ZONE", "COURSE_ENGAGEMENT_SPARK_WAREHOUSE"):
                env.delenv(name, raising=False)
            assert run(["--engine", engine, "--date", DATE]) == 0
        roots[engine] = root
    return roots


def _reports(root):
    return {path.name: path.read_bytes() for path in (root / "output" / "reports").iterdir()}


def test_spark_writes_every_report_of_duckdb_byte_for_byte(runs):
    duckdb_reports, spark_reports = (_reports(runs[engine]) for engine in ENGINES)
    assert sorted(spark_reports) == sorted(duckdb_reports)
    assert len([name for name in spark_reports if name.endswith(".csv")]) == 4
    for name, content in duckdb_reports.items():
        assert spark_reports[name] == content, name


def test_the_spark_run_builds_every_layer_on_spark(runs):
    log = (runs["spark"] / "output" / "logs" / f"airflow_dags_test_{DATE}.log").read_text()
    assert re.findall(r"\[DAG TEST\] starting task_id=(\w+)", log) == CHAIN
    commands = re.findall(r"running: (.*dbt build .*)", log)
    assert len(commands) == 3
    assert all(" --target spark " in command for command in commands)
    warehouse = runs["spark"] / "spark_warehouse" / "analytics.db"
    assert (warehouse / "mart_course_engagement").is_dir()
    assert (runs["spark"] / "raw_zone" / "events").is_dir()


def test_the_spark_runs_duckdb_file_holds_the_raw_tables_and_the_run_history_only(runs):
    with duckdb.connect(str(runs["spark"] / "pipeline.duckdb"), read_only=True) as con:
        analytics = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'analytics'"
        ).fetchall()
        history = con.execute(
            "select report_date::varchar, courses from analytics.pipeline_run_history"
        ).fetchall()
    assert analytics == [("pipeline_run_history",)]
    assert history == [(DATE, 60)]
