"""Run the real dbt project against real, throw-away DuckDB files.

Why this shape: the numbers a stakeholder sees come out of dbt running on DuckDB, so the tests
run exactly that - CSVs written here, loaded by the real loader, built by the real `dbt build`.
Every build gets its own database, target and log folder under pytest's tmp_path: the repo's
mock_data.duckdb and 2-dbt_project/target are never touched, and the tests can run in parallel
(`pytest -n auto`). dbt runs as a child process so one test's dbt state (adapters, flags,
partial parse) can never leak into another's; the child parses the project once and runs all
the commands of one database (dbt_session.py), which keeps the suite fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from course_engagement.contract import TABLES
from course_engagement.ingest.loader import load

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "2-dbt_project"
LAYERS = ("base", "intermediate", "marts")
# every mart, and the columns of its key (one row per key)
MART_KEYS = {
    "mart_course_engagement": ("course_id",),
    "mart_data_quality": ("defect",),
    "mart_event_reconciliation": ("reason",),
    "mart_active_learners_daily": ("activity_date",),
    "mart_cohort_retention_weekly": ("cohort_week", "weeks_since_enrolment"),
    "mart_course_health_weekly": ("course_id", "week_start"),
}


SESSION_SCRIPT = Path(__file__).with_name("dbt_session.py")


class DbtFailed(AssertionError):
    """dbt failed; the message names the failing command and nodes and ends with dbt's output."""


@dataclass(frozen=True)
class CommandResult:
    """One dbt command of a session: its arguments and the status of every node it ran."""

    args: list[str]
    success: bool
    error: str | None
    results: list[dict[str, Any]]

    @property
    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.results}


@dataclass(frozen=True)
class DbtRun:
    """A DuckDB file and the folder where dbt writes its target/ and logs/ for it."""

    db_path: Path
    run_dir: Path

    @property
    def target_path(self) -> Path:
        return self.run_dir / "target"

    def dbt(
        self,
        *commands: list[str],
        as_of_date: str | None = None,
        target: str | None = None,
        env: dict[str, str] | None = None,
    ) -> list[CommandResult]:
        """Run dbt commands (argument lists) on this database, from the repo root.

        All commands run in one child process that parses the project once (dbt_session.py).
        `target`: a profiles.yml output other than dev (the parse uses it too); `env`: more
        environment variables (the Spark target's raw zone and warehouse).
        Raises DbtFailed at the first command that fails.
        """
        common = [
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.run_dir / "logs"),
        ]
        if as_of_date is not None:
            common += ["--vars", json.dumps({"as_of_date": as_of_date})]
        if target is not None:
            common += ["--target", target]
        request = json.dumps({"common": common, "commands": [list(c) for c in commands]})
        env = os.environ | {
            "COURSE_ENGAGEMENT_DB": str(self.db_path),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **(env or {}),
        }
        process = subprocess.run(
            [sys.executable, str(SESSION_SCRIPT), request],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        outcomes = [
            CommandResult(**json.loads(line))
            for line in process.stdout.splitlines()
            if line.startswith('{"args"')
        ]
        if process.returncode != 0:
            failed = outcomes[-1] if outcomes else None
            nodes = [
                f"  {r['unique_id']} [{r['status']}]: {(r['message'] or '').strip()}"
                for r in (failed.results if failed else [])
                if r["status"] not in {"success", "pass"}
            ]
            other = [line for line in process.stdout.splitlines() if not line.startswith("{")]
            raise DbtFailed(
                f"dbt {' '.join(failed.args) if failed else '(did not start)'} failed on "
                f"{self.db_path}: {failed.error if failed else ''}\n"
                + "\n".join(nodes)
                + "\n--- dbt output (end) ---\n"
                + "\n".join(other[-40:])
                + process.stderr[-3000:]
            )
        return outcomes

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def query_dicts(self, sql: str) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            cursor = con.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def write_raw_csvs(data_dir: Path, rows: dict[str, list[str]]) -> Path:
    """Write raw_<table>.csv for every contract table: the contract header, then `rows[table]`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        lines = [table.header, *rows.get(table.name, [])]
        (data_dir / f"{table.file_stem}.csv").write_text("\n".join(lines) + "\n")
    return data_dir


def load_into_new_db(data_dir: Path, run_dir: Path) -> DbtRun:
    """Load the raw files with the real loader into a fresh DuckDB file under run_dir."""
    run_dir.mkdir(parents=True, exist_ok=True)
    db_path = run_dir / "warehouse.duckdb"
    load(data_dir, db_path)
    return DbtRun(db_path=db_path, run_dir=run_dir)
