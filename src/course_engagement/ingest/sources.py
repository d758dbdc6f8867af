"""Which files a load reads: one `raw_<table>.csv|parquet` per contract table, then every
events day file (`raw_events_<YYYY-MM-DD>.csv`) in date order."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from course_engagement.contract import EVENTS, TABLES, RawTable
from course_engagement.ingest.load_error import LoadError
from course_engagement.validation import validate_date

RAW_SCHEMA = "raw"
REJECTS_TABLE = f"{RAW_SCHEMA}.load_rejects"
AUDIT_TABLE = f"{RAW_SCHEMA}.load_audit"

# A day of events delivered on its own: raw_events_2026-10-31.csv.
DAY_FILE_PREFIX = f"{EVENTS.file_stem}_"
DAY_FILE_NAME = re.compile(rf"{DAY_FILE_PREFIX}(?P<date>.*)\.csv")
DAY_FILE_SQL_PATTERN = rf"{DAY_FILE_PREFIX}\d{{4}}-\d{{2}}-\d{{2}}\.csv"


@dataclass(frozen=True)
class Source:
    table: RawTable
    path: Path
    is_day_file: bool = False  # appended to raw.<table> instead of replacing it
    load_batch_id: int | None = None  # events files: the number every row of the file carries

    @property
    def is_parquet(self) -> bool:
        return self.path.suffix == ".parquet"

    @property
    def sibling_names(self) -> tuple[str, str]:
        return f"{self.table.file_stem}.csv", f"{self.table.file_stem}.parquet"


def find_sources(data_dir: Path) -> list[Source]:
    """One input file per contract table: `raw_<table>.csv` or `raw_<table>.parquet`."""
    if not data_dir.is_dir():
        raise LoadError(
            f"data directory {data_dir} does not exist; point --data-dir or "
            "COURSE_ENGAGEMENT_DATA_DIR at the folder holding the raw_*.csv files"
        )
    sources = []
    for table in TABLES:
        csv_path = data_dir / f"{table.file_stem}.csv"
        parquet_path = data_dir / f"{table.file_stem}.parquet"
        if csv_path.exists() and parquet_path.exists():
            raise LoadError(
                f"both {csv_path} and {parquet_path} exist for table {RAW_SCHEMA}.{table.name}; "
                "keep exactly one so it is clear which one is loaded"
            )
        if not csv_path.exists() and not parquet_path.exists():
            raise LoadError(
                f"{csv_path} is missing (no {parquet_path.name} either) for table "
                f"{RAW_SCHEMA}.{table.name}; generate the data (`course-engagement generate`) or "
                "point --data-dir / COURSE_ENGAGEMENT_DATA_DIR at the folder that holds it"
            )
        sources.append(Source(table, csv_path if csv_path.exists() else parquet_path))
    return sources + find_day_files(data_dir)


def day_file_date(path: Path) -> dt.date:
    """The date in a day file's name, `raw_events_<YYYY-MM-DD>.csv`; LoadError otherwise."""
    match = DAY_FILE_NAME.fullmatch(path.name)
    if not match:
        raise LoadError(
            f"{path}: a day of events must be a CSV named {DAY_FILE_PREFIX}YYYY-MM-DD.csv "
            f"(got {path.name!r}); rename it, or move it out of the data directory"
        )
    try:
        return validate_date(match["date"])
    except ValueError as exc:
        raise LoadError(f"{path}: {exc}; name day files {DAY_FILE_PREFIX}YYYY-MM-DD.csv") from None


def find_day_files(data_dir: Path) -> list[Source]:
    """Every `raw_events_<date>.csv` in the data directory, in date order.

    A directory by that name is kept too, so the header check names it instead of skipping it.
    """
    paths = list(data_dir.glob(f"{DAY_FILE_PREFIX}*"))
    dated = sorted((day_file_date(path), path) for path in paths)
    return [Source(EVENTS, path, is_day_file=True) for _, path in dated]
