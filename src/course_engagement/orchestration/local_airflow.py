"""`course-engagement run` and `course-engagement airflow-ui`: the real DAG, no set-up by hand.

Both point Airflow at a repo-local, git-ignored AIRFLOW_HOME (`.airflow/`) and at
`3-airflow/dags`, create the metadata database on first use and the one-slot `duckdb` pool,
then either run the DAG once in-process (`airflow dags test`) or start `airflow standalone`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from course_engagement.orchestration import tasks
from course_engagement.orchestration.airflow_launch import DAG_ID
from course_engagement.orchestration.spark_engine import JavaMissingError, require_java
from course_engagement.page import page_path
from course_engagement.paths import folder_problem
from course_engagement.publishing.export import report_path
from course_engagement.publishing.quality import connect_read_only
from course_engagement.settings import ENGINE_ENV, ENGINES, Settings, SettingsError
from course_engagement.sql_files import sql_file
from course_engagement.validation import validate_date


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment every Airflow command of this project runs with."""
    return os.environ | {
        "AIRFLOW_HOME": str(settings.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_dir),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
        "COURSE_ENGAGEMENT_DB": str(settings.db_path),
        "COURSE_ENGAGEMENT_DATA_DIR": str(settings.data_dir),
        "COURSE_ENGAGEMENT_OUTPUT_DIR": str(settings.output_dir),
        ENGINE_ENV: settings.engine,
    }


AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _logged(settings: Settings, command: list[str], what: str, log: Path) -> None:
    """Run an Airflow command with its output in `log`; on failure show the log's tail."""
    with log.open("w") as handle:
        completed = subprocess.run(
            command, env=airflow_env(settings), stdout=handle, stderr=subprocess.STDOUT
        )
    if completed.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise SystemExit(f"{tail}\n\nerror: `{what}` failed; full log: {log}")


def ensure_metadata_db(settings: Settings) -> None:
    """Create Airflow's metadata database on first use (a no-op afterwards)."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    if not (settings.airflow_home / "airflow.db").exists():
        print(f"creating the Airflow metadata database in {settings.airflow_home} ...", flush=True)
        log = settings.airflow_home / "db_migrate.log"
        _logged(settings, [AIRFLOW, "db", "migrate"], "airflow db migrate", log)


def check_folders(settings: Settings) -> None:
    """Every folder a run writes in exists or can be created, and is writable."""
    folders = (
        ("COURSE_ENGAGEMENT_DB", settings.db_path.parent),
        ("COURSE_ENGAGEMENT_OUTPUT_DIR", settings.output_dir),
        ("AIRFLOW_HOME", settings.airflow_home),
    )
    for variable, folder in folders:
        problem = folder_problem(folder)
        if problem:
            raise SettingsError(f"{variable}: {problem}")


def default_date(settings: Settings) -> str:
    """The last day of real activity: the generator's end date, else the latest event's date.

    The manifest's end date wins because clock-skewed events from the future must not move it.
    """
    manifest = settings.data_dir / "manifest.json"
    if manifest.exists():
        return validate_date(json.loads(manifest.read_text())["end_date"]).isoformat()
    if settings.db_path.exists():
        with duckdb.connect(str(settings.db_path), read_only=True) as con:
            latest = con.execute("select max(event_timestamp)::date from raw.events").fetchone()[0]
        if latest is not None:
            return latest.isoformat()
    raise SystemExit(
        f"error: no --date given, no {manifest} and no events in {settings.db_path}: "
        "pass --date YYYY-MM-DD"
    )


def count_report_rows(report: Path) -> int:
    """Data rows of a CSV report, read as CSV: a quoted line break inside a title is one row."""
    with report.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def terminal_text(value: object) -> str:
    """A value as one terminal line: line breaks, tabs and other unprintables escaped (`\\n`)."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def print_top_courses(settings: Settings, ds: str, limit: int = 10) -> None:
    marts = settings.spark_warehouse
    with connect_read_only(settings.db_path, "print the top courses", marts) as con:
        rows = con.execute(sql_file(__file__, "top_courses.sql"), {"top_n": limit}).fetchall()
    header = ("course_id", "course_title", "learners", "active", "active_30d", "engagement")
    table = [header, *[tuple(terminal_text(v) for v in row) for row in rows]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"\ntop {len(rows)} courses by learners active in the 30 days to {ds}:")
    for row in table:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _date_argument(text: str):
    try:
        return validate_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole DAG once through Airflow.")
    parser.add_argument(
        "--date",
        type=_date_argument,
        help="report date (default: last day of data)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        help=f"the engine that builds the models (default: env {ENGINE_ENV}, else duckdb)",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env(engine=args.engine)  # the DAG's tasks get it (airflow_env)
    if settings.engine == "spark":  # before anything is created or started
        try:
            print(f"engine: spark ({require_java()}; warehouse {settings.spark_warehouse})")
        except JavaMissingError as error:
            raise SystemExit(f"error: {error}") from None
    check_folders(settings)
    ds = args.date.isoformat() if args.date else default_date(settings)
    print(f"report date: {ds}{'' if args.date else ' (last day of activity in the data)'}")
    started = time.monotonic()
    ensure_metadata_db(settings)
    log_dir = settings.output_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"airflow_dags_test_{ds}.log"
    print(f"running {DAG_ID} for {ds} through Airflow (log: {log}) ...", flush=True)
    launcher = [sys.executable, "-m", "course_engagement.orchestration.airflow_launch", ds]
    _logged(settings, launcher, f"airflow dags test {DAG_ID} {ds}", log)
    report, page = report_path(settings.reports_dir, ds), page_path(settings.reports_dir, ds)
    for published in (report, page):
        if not published.exists():
            raise SystemExit(f"error: the DAG finished but {published} is missing; see {log}")
    rows = count_report_rows(report)
    print(f"DAG run succeeded in {time.monotonic() - started:.1f}s")
    print(f"report: {report} ({rows} courses)")
    print(f"page:   {page}")
    print_top_courses(settings, ds)
    return 0


def airflow_ui(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description="Start `airflow standalone` with the project's AIRFLOW_HOME and DAG folder.",
    ).parse_args(argv)
    settings = Settings.from_env()
    ensure_metadata_db(settings)
    pool = [AIRFLOW, "pools", "set", tasks.POOL, "1", tasks.POOL_DESCRIPTION]
    subprocess.run(pool, env=airflow_env(settings), check=True, capture_output=True)
    password_file = settings.airflow_home / "simple_auth_manager_passwords.json.generated"
    print(
        f"starting Airflow on http://localhost:8080 (AIRFLOW_HOME={settings.airflow_home});\n"
        f"log in as admin with the password in {password_file} (git-ignored). Ctrl-C stops it."
    )
    return subprocess.call([AIRFLOW, "standalone"], env=airflow_env(settings))


def main(argv: list[str] | None = None) -> int:
    return run(argv)
