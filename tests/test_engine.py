"""The engine switch without Spark: the setting, the `run --engine` flag, a missing Java, the
dbt command of each engine, and Spark's marts published through DuckDB as DuckDB's are.

The real Spark run of the DAG is tests/dags/test_pipeline_spark.py (marker `spark`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest
from fake_marts import TWO_COURSES, create_engagement_mart

from course_engagement import cli
from course_engagement.orchestration import dbt_runner, local_airflow, spark_engine
from course_engagement.publishing import quality
from course_engagement.publishing.export import export_report
from course_engagement.settings import ENGINE_ENV, Settings, SettingsError

DATE = "2026-10-31"
ENGINE_VARIABLES = (
    ENGINE_ENV,
    "COURSE_ENGAGEMENT_RAW_ZONE",
    "COURSE_ENGAGEMENT_SPARK_WAREHOUSE",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in ENGINE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_ENGAGEMENT_DB", str(tmp_path / "db" / "course.duckdb"))
    monkeypatch.setenv("COURSE_ENGAGEMENT_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow_home"))
    return monkeypatch


def test_the_engine_is_duckdb_with_no_zone_and_no_warehouse_by_default(env, tmp_path):
    settings = Settings.from_env()
    assert (settings.engine, settings.raw_zone, settings.spark_warehouse) == ("duckdb", None, None)
    assert local_airflow.airflow_env(settings)[ENGINE_ENV] == "duckdb"
    assert ENGINE_ENV in settings.dbt_env()
    assert not [key for key in settings.dbt_env() if "SPARK" in key or "ZONE" in key]


def test_spark_puts_the_raw_zone_and_the_warehouse_beside_the_duckdb_file(env, tmp_path):
    env.setenv(ENGINE_ENV, "spark")
    settings = Settings.from_env()
    assert settings.engine == "spark"
    assert settings.raw_zone == tmp_path / "db" / "raw_zone"
    assert settings.spark_warehouse == tmp_path / "db" / "spark_warehouse"
    spark_env = {k: v for k, v in settings.dbt_env().items() if "SPARK" in k or "ZONE" in k}
    assert spark_env == {
        "COURSE_ENGAGEMENT_RAW_ZONE": str(tmp_path / "db" / "raw_zone"),
        "COURSE_ENGAGEMENT_SPARK_WAREHOUSE": str(tmp_path / "db" / "spark_warehouse"),
    }


def test_the_zone_and_the_warehouse_follow_their_variables(env, tmp_path):
    env.setenv(ENGINE_ENV, "spark")
    env.setenv("COURSE_ENGAGEMENT_RAW_ZONE", str(tmp_path / "zone"))
    env.setenv("COURSE_ENGAGEMENT_SPARK_WAREHOUSE", str(tmp_path / "warehouse"))
    settings = Settings.from_env()
    assert (settings.raw_zone, settings.spark_warehouse) == (
        tmp_path / "zone",
        tmp_path / "warehouse",
    )


def test_the_engine_flag_overrides_the_variable(env):
    env.setenv(ENGINE_ENV, "spark")
    assert Settings.from_env(engine="duckdb").engine == "duckdb"
    env.setenv(ENGINE_ENV, "duckdb")
    settings = Settings.from_env(engine="spark")
    assert settings.engine == "spark"
    assert local_airflow.airflow_env(settings)[ENGINE_ENV] == "spark"  # what the tasks read


@pytest.mark.parametrize("value", ["Spark", " spark "])
def test_the_engine_is_read_without_regard_to_case_or_spaces(env, value):
    env.setenv(ENGINE_ENV, value)
    assert Settings.from_env().engine == "spark"


def test_an_unknown_engine_is_one_line_naming_the_variable_and_the_choices(env, capsys):
    env.setenv(ENGINE_ENV, "oracle")
    with pytest.raises(SettingsError) as error:
        Settings.from_env()
    assert str(error.value) == (
        "COURSE_ENGAGEMENT_ENGINE='oracle' is not an engine; use COURSE_ENGAGEMENT_ENGINE=duckdb "
        "(the default) or COURSE_ENGAGEMENT_ENGINE=spark"
    )
    assert cli.main(["run", "--date", DATE]) == 2
    assert capsys.readouterr().err == f"error: {error.value}\n"


def test_the_run_flag_takes_only_the_two_engines(env, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--engine", "oracle"])
    assert exit_.value.code == 2
    assert "argument --engine: invalid choice: 'oracle' (choose from" in capsys.readouterr().err


def _fake_java(folder: Path, version: str) -> Path:
    """A real executable that answers `-version` as a Java of `version` does (on stderr)."""
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-04-15' >&2\n")
    java.chmod(0o755)
    return java


def test_a_java_home_without_java_stops_a_spark_run_before_airflow_naming_it(env, tmp_path):
    env.setenv("JAVA_HOME", str(tmp_path / "no_java"))
    with pytest.raises(SystemExit) as exit_:
        local_airflow.run(["--engine", "spark", "--date", DATE])
    assert str(exit_.value) == (
        f"error: the Spark engine needs Java, and JAVA_HOME='{tmp_path / 'no_java'}' has no "
        "executable bin/java; point JAVA_HOME at a Java 17+ installation or unset it to use "
        "the `java` on PATH"
    )
    assert not (tmp_path / "airflow_home").exists()


def test_no_java_on_path_stops_a_spark_run_saying_what_to_install(env, tmp_path):
    env.delenv("JAVA_HOME", raising=False)
    env.setenv("PATH", str(tmp_path / "empty_bin"))
    with pytest.raises(SystemExit, match="there is no `java` on PATH and no JAVA_HOME: install"):
        local_airflow.run(["--engine", "spark", "--date", DATE])
    assert not (tmp_path / "airflow_home").exists()


def test_a_java_older_than_17_is_refused(env, tmp_path):
    _fake_java(tmp_path / "jdk11", "11.0.2")
    env.setenv("JAVA_HOME", str(tmp_path / "jdk11"))
    with pytest.raises(spark_engine.JavaMissingError, match=r"is Java 11; Spark needs 17\+"):
        spark_engine.require_java()
    _fake_java(tmp_path / "jdk8", "1.8.0_392")
    env.setenv("JAVA_HOME", str(tmp_path / "jdk8"))
    with pytest.raises(spark_engine.JavaMissingError, match=r"is Java 8; Spark needs 17\+"):
        spark_engine.require_java()
    _fake_java(tmp_path / "jdk17", "17.0.15")
    env.setenv("JAVA_HOME", str(tmp_path / "jdk17"))
    assert spark_engine.require_java() == 'version "17.0'


def test_spark_layers_build_the_spark_target(env, tmp_path):
    duckdb_command = dbt_runner.build_command("marts", DATE, Settings.from_env(), tmp_path)
    spark_settings = Settings.from_env(engine="spark")
    spark_command = dbt_runner.build_command("marts", DATE, spark_settings, tmp_path)
    assert "--target" not in duckdb_command
    assert [c for c in spark_command if c not in duckdb_command] == [
        "--target",
        "spark",
    ]
    # a full refresh takes every load batch, so its data tests check them all; the DuckDB file
    # (not even created here) is not asked which batches the models hold
    chosen = dbt_runner.run_vars(
        spark_settings, tmp_path / "run" / "marts", full_history_checks=False
    )
    assert chosen == {"data_tests_from_load_batch": 1}
    assert not spark_settings.db_path.exists()


# --- Spark's marts read through DuckDB --------------------------------------------------------


@pytest.fixture
def both_engines(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The same mart in a DuckDB file, and as a Spark warehouse's Parquet folder (with int
    columns where the contract says bigint) beside a DuckDB file holding only raw tables."""
    duck = tmp_path / "duck.duckdb"
    with duckdb.connect(str(duck)) as con:
        create_engagement_mart(con, TWO_COURSES)
        con.execute("create schema raw")
        con.execute("create table raw.courses as select unnest([1, 2]) as course_id")
        folder = tmp_path / "warehouse" / "analytics.db" / "mart_course_engagement"
        folder.mkdir(parents=True)
        narrowed = ", ".join(
            f"{name}::int as {name}" if name in {"course_id", "learners"} else name
            for name in (
                d[0] for d in con.execute("describe analytics.mart_course_engagement").fetchall()
            )
        )
        con.execute(
            f"copy (select {narrowed} from analytics.mart_course_engagement) "
            f"to '{folder / 'part-00000.snappy.parquet'}' (format parquet)"
        )
        (folder / "_SUCCESS").touch()
        reconciliation = folder.with_name("mart_event_reconciliation")
        reconciliation.mkdir()
        con.execute(
            "copy (select 'counted' as reason, 7::bigint as event_rows, true as is_counted, "
            f"1 as reason_order) to '{reconciliation / 'part-00000.parquet'}' (format parquet)"
        )
    loaded = tmp_path / "loaded.duckdb"
    with duckdb.connect(str(loaded)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.courses as select unnest([1, 2]) as course_id")
    return duck, loaded, tmp_path / "warehouse"


def test_spark_marts_are_published_with_the_bytes_of_the_same_duckdb_mart(both_engines, tmp_path):
    duck, loaded, warehouse = both_engines
    from_duckdb = export_report(duck, tmp_path / "duck_reports", DATE)
    from_spark = export_report(loaded, tmp_path / "spark_reports", DATE, warehouse)
    assert from_spark.path.read_bytes() == from_duckdb.path.read_bytes()
    with quality.connect_read_only(loaded, "test", warehouse) as con:
        types = dict(
            con.execute(
                "select column_name, column_type from (describe analytics.mart_course_engagement)"
            ).fetchall()
        )
    assert (types["course_id"], types["learners"]) == ("BIGINT", "BIGINT")


def test_the_gate_checks_spark_marts_against_the_loaded_catalogue(both_engines):
    _, loaded, warehouse = both_engines
    assert quality.check_mart(loaded, warehouse) == 2
    with duckdb.connect(str(loaded)) as con:
        con.execute("insert into raw.courses values (3)")
    with pytest.raises(quality.QualityGateError, match="one row per catalogue course: 1 offending"):
        quality.check_mart(loaded, warehouse)


def test_the_run_history_of_a_spark_run_is_kept_in_the_duckdb_file(both_engines, tmp_path):
    _, loaded, warehouse = both_engines
    report = export_report(loaded, tmp_path / "reports", DATE, warehouse)
    figures = quality.record_run(loaded, report.path, warehouse)
    assert (figures.courses, figures.learners, figures.counted_events) == (2, 3, 7)
    with duckdb.connect(str(loaded), read_only=True) as con:
        assert con.execute(
            "select report_date::varchar, courses, learners, report_file "
            "from analytics.pipeline_run_history"
        ).fetchall() == [(DATE, 2, 3, report.path.name)]
    with quality.connect_read_only(loaded, "test", warehouse) as con:
        previous = quality.previous_run(con, dt.date(2026, 11, 1))
    assert previous == figures  # the next day's gate compares with it


def test_a_missing_spark_mart_fails_the_gate_naming_it(tmp_path):
    loaded = tmp_path / "loaded.duckdb"
    with duckdb.connect(str(loaded)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.courses as select 1 as course_id")
    with pytest.raises(
        quality.QualityGateError, match=r"mart or catalogue missing: .*mart_course_engagement"
    ):
        quality.check_mart(loaded, tmp_path / "empty_warehouse")


def test_the_engine_variable_reaches_dbt(env):
    env.setenv(ENGINE_ENV, "spark")
    assert Settings.from_env().dbt_env()[ENGINE_ENV] == "spark"
    assert os.environ[ENGINE_ENV] == "spark"


def test_loading_for_spark_writes_the_raw_zone_beside_the_database(env, tmp_path, capsys):
    db = tmp_path / "db" / "course.duckdb"
    sample = Settings.from_env().repo_root / "data"
    assert cli.main(["load", "--engine", "spark", "--data-dir", str(sample), "--db", str(db)]) == 0
    zone = tmp_path / "db" / "raw_zone"
    with duckdb.connect(str(db), read_only=True) as con:
        courses = con.execute("select count(*) from raw.courses").fetchone()[0]
    with duckdb.connect() as con:
        zone_courses = con.execute(
            f"select count(*) from '{zone / 'courses' / 'data.parquet'}'"
        ).fetchone()[0]
    assert zone_courses == courses == 60
    assert not (tmp_path / "db" / "spark_warehouse").exists()  # dbt creates it, not the loader
