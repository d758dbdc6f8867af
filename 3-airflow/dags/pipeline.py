"""Daily course-engagement pipeline: raw CSVs -> DuckDB -> dbt layers -> quality gate -> report.

This file only wires tasks; every task body lives in `course_engagement.orchestration.tasks`
and is tested there. Nothing here opens the database or runs dbt at import time.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from course_engagement.orchestration import tasks
from course_engagement.settings import Settings, reports_dir_from_env

DOC_MD = """
### course_engagement_pipeline
Builds `analytics.mart_course_engagement` (one row per catalogue course) and publishes
`output/reports/course_engagement_<ds>.csv` for Learning Ops, with the time-series marts
(`export.TIME_SERIES_MARTS`) beside it as `<mart name without mart_>_<ds>.csv` and the daily
page `course_engagement_<ds>.html` (charts, headline changes, data quality).

`load_raw` → `run_base` → `run_intermediate` → `run_marts` → `check_mart_quality` →
`export_mart_report`

* Every task that opens the DuckDB file runs in the one-slot pool `duckdb` (one writer at a
  time); `max_active_runs=1` serialises runs too.
* dbt layers run `dbt build --select path:models/<layer>` with `as_of_date = ds`; a failing
  data test, a failed quality gate or a structurally broken input fails at once (no retry);
  lock conflicts and crashes retry with exponential backoff.
* The report date is `ds`; a run without a logical date uses its `run_after` date (UTC).
* Event-grain data tests check the load batches this run brings; trigger with the param
  `full_history_checks` (weekly, and after a reload or an incident) to check all history and
  run dbt's unit tests (they read no data: CI runs them on every change).
* Nothing is exported after a failed check; each report is written atomically.
* **Engine**: the setting `COURSE_ENGAGEMENT_ENGINE` (`duckdb`, the default, or `spark`) in the
  environment of the tasks; the same DAG runs either (`course-engagement run --engine spark`).
  With `spark`, `load_raw` checks for Java and also writes the raw zone, the dbt layers build
  `--target spark` (every Spark build a full refresh for now), and the gate, the export and the
  page read Spark's marts from its warehouse with DuckDB. The pool also serialises Spark's
  tasks: its embedded Derby metastore takes one JVM at a time.
"""

REPORT_ASSET = Asset(
    name="course_engagement_report",
    uri=reports_dir_from_env().as_uri() + "/",  # a bad setting fails the tasks, not the import
)
DEFAULT_ARGS = {
    "owner": "data-team",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=30),
}


@contextlib.contextmanager
def permanent_failures_fail_fast():
    """Turn failures a retry cannot fix into AirflowFailException (no retry)."""
    try:
        yield
    except tasks.PERMANENT_FAILURES as error:
        raise AirflowFailException(str(error)) from error


def _context() -> tuple[Settings, str, str]:
    context = get_current_context()
    return Settings.from_env(), tasks.report_date(context), context["run_id"]


@dag(
    dag_id="course_engagement_pipeline",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["course-engagement", "dbt", "duckdb", "spark", "learning-ops"],
    doc_md=DOC_MD,
    default_args=DEFAULT_ARGS,
    params={
        "full_history_checks": Param(
            False,
            type="boolean",
            description=(
                "Run every data test on all history, not only on this run's load batches, "
                "and dbt's unit tests."
            ),
        )
    },
)
def course_engagement_pipeline():
    @task(pool=tasks.POOL, execution_timeout=timedelta(minutes=20))
    def load_raw() -> dict[str, int]:
        with permanent_failures_fail_fast():
            settings, _, _ = _context()
            return tasks.load_raw(settings)

    def dbt_layer(layer: str):
        @task(task_id=f"run_{layer}", pool=tasks.POOL, execution_timeout=timedelta(minutes=40))
        def layer_task() -> str:
            full_history = bool(get_current_context()["params"].get("full_history_checks"))
            with permanent_failures_fail_fast():
                settings, ds, run_id = _context()
                return tasks.run_layer(
                    settings, layer, ds, run_id, full_history_checks=full_history
                )

        return layer_task()

    @task(pool=tasks.POOL, execution_timeout=timedelta(minutes=5))
    def check_mart_quality() -> int:
        with permanent_failures_fail_fast():
            settings, _, _ = _context()
            return tasks.check_mart_quality(settings)

    @task(pool=tasks.POOL, execution_timeout=timedelta(minutes=5), outlets=[REPORT_ASSET])
    def export_mart_report() -> dict:
        with permanent_failures_fail_fast():
            settings, ds, _ = _context()
            return tasks.export_mart_report(settings, ds)

    (
        load_raw()
        >> dbt_layer("base")
        >> dbt_layer("intermediate")
        >> dbt_layer("marts")
        >> check_mart_quality()
        >> export_mart_report()
    )


course_engagement_pipeline()
