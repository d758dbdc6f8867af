"""Export the mart as the stakeholder's dated CSV report, atomically and reproducibly.

The report is written to a temporary file in the reports folder and renamed into place, so a
reader (or a crash) never sees half a file; the same mart gives the same bytes, so a rerun of a
date replaces the file with an identical one. Rows are ordered by course_id: stable, and easy
to diff between two dates.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from course_engagement.quality import MART
from course_engagement.validation import validate_date

REPORT_COLUMNS = (
    "course_id",
    "course_title",
    "category",
    "level",
    "publisher",
    "learners",
    "active_learners",
    "active_learners_30d",
    "total_quizzes_completed",
    "total_videos_completed",
    "first_activity",
    "last_activity",
    "engagement_rate",
    "as_of_date",
)
REPORT_MODE = 0o644  # readable by the team, writable only by the pipeline's user


@dataclass(frozen=True)
class Report:
    path: Path
    rows: int


def report_path(reports_dir: Path, ds: str) -> Path:
    return reports_dir / f"course_engagement_{validate_date(ds).isoformat()}.csv"


def export_report(db_path: Path, reports_dir: Path, ds: str) -> Report:
    """Write `course_engagement_<ds>.csv` from the mart; return its path and row count."""
    final = report_path(reports_dir, ds)
    reports_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=reports_dir)
    os.close(handle)
    columns = ", ".join(REPORT_COLUMNS)
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            rows = con.execute(f"select count(*) from {MART}").fetchone()[0]
            con.execute(
                f"copy (select {columns} from {MART} order by course_id) "
                "to $path (format csv, header true)",
                {"path": temporary},
            )
        os.chmod(temporary, REPORT_MODE)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(f"report written: {final} ({rows} rows)")
    return Report(final, rows)
