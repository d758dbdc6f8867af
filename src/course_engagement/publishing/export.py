"""Export the mart as the stakeholder's dated CSV report, atomically and reproducibly.

The report is written to a temporary file in the reports folder and renamed into place, so a
reader (or a crash) never sees half a file; the same mart gives the same bytes, so a rerun of a
date replaces the file with an identical one. Rows are ordered by course_id: stable, and easy
to diff between two dates.

A temporary file is named `.course_engagement_<ds>.csv.<pid>.<random>.tmp`: hidden, never
matching `course_engagement_*.csv`, so nobody mistakes it for a report. An export killed
mid-write (kill -9, a lost machine) leaves one behind; the next export removes every temporary
file whose process is gone. The mart must be for the report's date: a mart built for another
date, or an empty one, is never written under this date's name.

Text cells are guarded for spreadsheet readers (OWASP's CSV injection advice): one starting
with `=`, `+`, `-`, `@`, a tab or a carriage return, or with `'`, gets a leading `'`, so
stripping one leading `'` from a text cell that has one gives the mart's value back. Control
characters other than tab, line feed and carriage return become U+FFFD, with a warning naming
each cell. Numeric columns are written as they are.

The time-series marts (`TIME_SERIES_MARTS`) are exported next to it, the same way, as
`<mart name without mart_>_<ds>.csv`: every column in contract order, rows ordered by all
columns (their keys come first). They hold dates, numbers and fixed codes (health_status)
only, so no cell needs a guard.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_engagement.mart_contract import contract_columns
from course_engagement.publishing.quality import MART, connect_read_only
from course_engagement.validation import validate_date

# The report's columns are the mart's contract, in its order: publishing a new mart column
# needs no edit here.
REPORT_COLUMNS = tuple(contract_columns("mart_course_engagement"))
REPORT_MODE = 0o644  # readable by the team, writable only by the pipeline's user
REPORTS_DIR_MODE = 0o755  # the folder it creates for them: nobody else can add or replace one
FORMULA_PREFIX = "'"  # what a text cell starting with a FORMULA_STARTS character gets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", FORMULA_PREFIX)
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"  # RE2: below 0x20 but tab, LF, CR
REPLACEMENT_CHARACTER = "\ufffd"
# The time-series marts exported beside the report, in this order; a new one only adds its name.
TIME_SERIES_MARTS = (
    "mart_active_learners_daily",
    "mart_cohort_retention_weekly",
    "mart_course_health_weekly",
)
# also the daily page's (course_engagement.page): `.course_engagement_<ds>.html.<pid>.<random>.tmp`
_TEMPORARY = re.compile(r"^\.[a-z0-9_]+_\d{4}-\d{2}-\d{2}\.(?:csv|html)\.(?P<pid>\d+)\..*\.tmp$")


class ExportError(RuntimeError):
    """The mart cannot be published under this date; a retry will not change that."""


@dataclass(frozen=True)
class Report:
    path: Path
    rows: int
    replaced_cells: tuple[str, ...] = ()  # "course <id> <column>": control characters replaced


def report_path(reports_dir: Path, ds: str) -> Path:
    return reports_dir / f"course_engagement_{validate_date(ds).isoformat()}.csv"


def time_series_report_path(reports_dir: Path, mart: str, ds: str) -> Path:
    name = mart.removeprefix("mart_")
    return reports_dir / f"{name}_{validate_date(ds).isoformat()}.csv"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(reports_dir: Path) -> list[Path]:
    """Delete temporary report files left by exports whose process no longer exists."""
    removed = []
    if not reports_dir.is_dir():
        return removed
    for path in sorted(reports_dir.iterdir()):
        match = _TEMPORARY.match(path.name)
        if match and path.is_file() and not _process_alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        print(f"removed {len(removed)} temporary file(s) of killed exports: {removed}")
    return removed


def _text_columns(con) -> set[str]:
    described = con.execute(f"describe select {', '.join(REPORT_COLUMNS)} from {MART}")
    return {name for name, kind, *_ in described.fetchall() if kind == "VARCHAR"}


def _guarded(column: str) -> str:
    """SQL for a text column: control characters to U+FFFD, then a `'` before a formula start."""
    cleaned = f"regexp_replace({column}, '{CONTROL_CHARACTERS}', '{REPLACEMENT_CHARACTER}', 'g')"
    starts = ", ".join("'" + start.replace("'", "''") + "'" for start in FORMULA_STARTS)
    return (
        f"case when left({column}, 1) in ({starts}) then '{FORMULA_PREFIX * 2}' || {cleaned} "
        f"else {cleaned} end as {column}"
    )


def _cells_with_control_characters(con, text_columns: set[str]) -> tuple[str, ...]:
    cells = []
    for column in (c for c in REPORT_COLUMNS if c in text_columns):
        found = con.execute(
            f"select course_id from {MART} "
            f"where regexp_matches({column}, '{CONTROL_CHARACTERS}') order by course_id"
        ).fetchall()
        cells += [f"course {course_id} {column}" for (course_id,) in found]
    return tuple(cells)


def _prepare(reports_dir: Path) -> None:
    if not reports_dir.is_dir():  # never world-writable, whatever the umask
        reports_dir.parent.mkdir(parents=True, exist_ok=True)
        reports_dir.mkdir(mode=REPORTS_DIR_MODE, exist_ok=True)
    remove_stale_temporaries(reports_dir)


def _copy_atomically(con, query: str, final: Path) -> None:
    """COPY a query to a hidden temporary file beside `final`, then rename it into place."""
    handle, temporary = tempfile.mkstemp(
        prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent
    )
    os.close(handle)
    try:
        con.execute(
            f"copy ({query}) to $path (format csv, header true, use_tmp_file false)",
            {"path": temporary},
        )
        os.chmod(temporary, REPORT_MODE)
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_report(
    db_path: Path, reports_dir: Path, ds: str, spark_warehouse: Path | None = None
) -> Report:
    """Write `course_engagement_<ds>.csv` from the mart; return its path and row count.

    `spark_warehouse`: the marts are the Spark build's (`quality.connect`)."""
    final = report_path(reports_dir, ds)
    as_of = validate_date(ds)
    _prepare(reports_dir)
    with connect_read_only(db_path, "export the report", spark_warehouse) as con:
        rows, dates = con.execute(
            f"select count(*), string_agg(distinct as_of_date::varchar, ', ') from {MART}"
        ).fetchone()
        if rows == 0 or dates != as_of.isoformat():
            raise ExportError(
                f"{MART} is {'empty' if rows == 0 else f'built as of {dates}'}, not as of "
                f"{as_of}; refusing to write {final}. Rebuild the marts for {as_of} first"
            )
        text_columns = _text_columns(con)
        columns = ", ".join(_guarded(c) if c in text_columns else c for c in REPORT_COLUMNS)
        replaced = _cells_with_control_characters(con, text_columns)
        _copy_atomically(con, f"select {columns} from {MART} order by course_id", final)
    if replaced:
        print(
            f"warning: {final.name}: control characters replaced by U+FFFD in "
            f"{len(replaced)} cell(s): {'; '.join(replaced)}; fix them in the source export"
        )
    print(f"report written: {final} ({rows} rows)")
    return Report(final, rows, replaced)


def export_time_series(
    db_path: Path, reports_dir: Path, ds: str, spark_warehouse: Path | None = None
) -> tuple[Report, ...]:
    """Write one `<name>_<ds>.csv` per mart of TIME_SERIES_MARTS; return them in that order.

    Run after `export_report`, which checks that the marts were built for `ds` (these marts
    have no as_of_date column to check). An empty mart (no counted event yet) gives a file
    with the header only.
    """
    finals = [time_series_report_path(reports_dir, mart, ds) for mart in TIME_SERIES_MARTS]
    _prepare(reports_dir)
    reports = []
    with connect_read_only(db_path, "export the time-series reports", spark_warehouse) as con:
        for mart, final in zip(TIME_SERIES_MARTS, finals, strict=True):
            relation = f"analytics.{mart}"
            (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
            _copy_atomically(con, f"select * from {relation} order by all", final)
            print(f"report written: {final} ({rows} rows)")
            reports.append(Report(final, rows))
    return tuple(reports)
