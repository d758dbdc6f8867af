"""The daily pipeline's task bodies, free of Airflow so they can be unit-tested directly.

`3-airflow/dags/pipeline.py` only wires these into a DAG. Each function takes the run's date
(`ds`) and the resolved settings, does one step and returns something small and loggable.
Failures that a retry cannot fix (a failing data test, a failed quality gate, a structurally
broken input file, a mart built for another date) are marked permanent with
`PERMANENT_FAILURES` so the DAG fails the task at once instead of retrying into the same wall;
everything else (a DuckDB lock held by another process, a dbt crash or timeout) is retried.

The export task also records the published report's key figures in
`analytics.pipeline_run_history`, after the report is in place; the next run's quality gate
compares its mart with them (see `course_engagement.publishing.quality`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from course_engagement import page, warehouse
from course_engagement.ingest import loader
from course_engagement.orchestration import dbt_runner, spark_engine
from course_engagement.publishing import export, quality
from course_engagement.settings import Settings
from course_engagement.validation import validate_date

POOL = "duckdb"
POOL_DESCRIPTION = "One slot: serialises every task that opens the DuckDB file (one writer)."
PERMANENT_FAILURES: tuple[type[BaseException], ...] = (
    dbt_runner.DbtTestFailure,
    quality.QualityGateError,
    export.ExportError,
    page.PageError,
    loader.LoadError,
    spark_engine.JavaMissingError,
    ValueError,
)


def report_date(context: dict[str, Any]) -> str:
    """The run's report date: `ds` when the run has a logical date, else its `run_after` date.

    Airflow 3 runs triggered without a logical date have no `ds`; such a run reports for the
    day it was asked to run after (UTC).
    """
    ds = context.get("ds")
    if ds:
        return validate_date(ds).isoformat()
    run_after = context["dag_run"].run_after
    return run_after.astimezone(dt.UTC).date().isoformat()


def run_dir(settings: Settings, ds: str, run_id: str, layer: str) -> Path:
    """Per-run dbt target and log folder, so concurrent or past runs never share artefacts."""
    safe_run = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    return settings.output_dir / "dbt_runs" / f"{validate_date(ds)}_{safe_run}" / layer


def parse_dir(settings: Settings) -> Path:
    """dbt's partial parse, kept across layers and runs (dbt keeps it in its target folder,
    which is per run and layer here). dbt validates it before use and re-parses what changed:
    everything when the vars do (a new date or load batch)."""
    return settings.output_dir / "dbt_parse"


def load_raw(settings: Settings) -> dict[str, int]:
    """Load the raw files; on the Spark engine first check for Java (the run's first task)."""
    if settings.engine == "spark":
        print(f"Spark engine: {spark_engine.require_java()}")
    try:
        # the raw zone too when the engine is Spark (or COURSE_ENGAGEMENT_RAW_ZONE is set)
        audits = loader.load(settings.data_dir, settings.db_path, raw_zone=settings.raw_zone)
    except loader.LoadError as error:
        # A file problem will not heal on retry; a database held by another process will.
        if warehouse.is_lock_conflict(error.__context__):
            raise quality.DatabaseBusyError(f"{error}; the task retries") from error
        raise
    return {audit.file_name: audit.loaded_rows for audit in audits}


def run_layer(
    settings: Settings, layer: str, ds: str, run_id: str, *, full_history_checks: bool = False
) -> str:
    result = dbt_runner.build_layer(
        layer,
        ds,
        settings,
        run_dir(settings, ds, run_id, layer),
        full_history_checks=full_history_checks,
        parse_dir=parse_dir(settings),
    )
    return result.summary


def check_mart_quality(settings: Settings) -> int:
    return quality.check_mart(settings.db_path, settings.spark_warehouse)


def export_mart_report(settings: Settings, ds: str) -> dict[str, Any]:
    """The day's report, then the time-series reports and the page beside it (same marts build).

    On the Spark engine every step reads Spark's marts (settings.spark_warehouse) with DuckDB.
    """
    db, reports, marts = settings.db_path, settings.reports_dir, settings.spark_warehouse
    report = export.export_report(db, reports, ds, marts)
    time_series = export.export_time_series(db, reports, ds, marts)
    page_file = page.write_page(db, reports, ds, marts)
    figures = quality.record_run(db, report.path, marts)
    return {
        "path": str(report.path),
        "rows": report.rows,
        "learners": figures.learners,
        "time_series": {str(r.path): r.rows for r in time_series},
        "page": str(page_file),
    }
